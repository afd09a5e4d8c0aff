#!/usr/bin/env bash
# Installs the Debian packages the test suites need, if any is missing: nasm; a 32-bit gcc (the
# oracle's runners and the boot tier's guest program are built with gcc -m32); qemu-system-i386
# (the system tests, and the oracle's reference on hosts that cannot run 32-bit code);
# qemu-i386-static (the boot tier's reference run of its guest program on such hosts); iasl
# (acpica-tools: test/devices/acpi.test.ts disassembles our ACPI tables with it); and qemu-img,
# qemu-io (qemu-utils: test/unit/block checks our qcow2 images against them). Runs as
# `npm test`'s pretest step; needs root (or passwordless sudo) only when something is missing.
set -euo pipefail

need=()
command -v nasm >/dev/null 2>&1 || need+=(nasm)
if ! echo 'int main(void){return 0;}' | gcc -m32 -x c - -o /tmp/.wasmvisor-m32-probe >/dev/null 2>&1; then
  need+=(gcc-multilib)
fi
rm -f /tmp/.wasmvisor-m32-probe
command -v qemu-system-i386 >/dev/null 2>&1 || need+=(qemu-system-x86)
command -v qemu-i386-static >/dev/null 2>&1 || need+=(qemu-user-static)
command -v iasl >/dev/null 2>&1 || need+=(acpica-tools)
command -v qemu-img >/dev/null 2>&1 || need+=(qemu-utils)

[ ${#need[@]} -eq 0 ] && exit 0

echo "system-deps: installing ${need[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "system-deps: need root to install: ${need[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" build-essential >/dev/null
