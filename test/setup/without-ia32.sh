#!/usr/bin/env bash
# Runs a command as on a host that cannot execute 32-bit x86 programs (see no-ia32.c), e.g.
#   bash test/setup/without-ia32.sh npm test
#   bash test/setup/without-ia32.sh npm run oracle
# Builds the wrapper into test/setup/.build/ on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$here/.build/no-ia32"
if [ ! -x "$bin" ] || [ "$here/no-ia32.c" -nt "$bin" ]; then
  mkdir -p "$here/.build"
  gcc -O2 -Wall -o "$bin" "$here/no-ia32.c"
fi
exec "$bin" "$@"
