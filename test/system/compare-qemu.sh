#!/usr/bin/env bash
# Runs the system test images under qemu-system-i386 and under our machine and diffs them
# against test/system/expected/ (see compare-qemu.ts for the options, e.g. --update).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec npx tsx test/system/compare-qemu.ts "$@"
