#!/usr/bin/env bash
# Dumps the fw_cfg files QEMU 7.2 gives SeaBIOS on -M pc -nodefaults (ACPI tables, RSDP, loader
# script, ...) into packages/fixtures/pc/acpi/m<size>/, for the ACPI tables' tests.
# TCG is enough (the tables do not depend on the accelerator): QEMU runs fw-cfg-dump.S as its
# BIOS, which copies the files into guest RAM; the monitor's pmemsave writes them out.
#
#   packages/pc/scripts/dump-fw-cfg.sh [OUT_DIR]      (default: packages/fixtures/pc/acpi)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-$here/../../fixtures/pc/acpi}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
as --32 -o "$work/dump.o" "$here/fw-cfg-dump.S"
ld -m elf_i386 -Ttext 0 -e 0 --oformat binary -o "$work/dump.bin" "$work/dump.o"
# m<size> for one vCPU, and m128M-smp2 for -smp 2 (one socket of two cores in QEMU 7.2).
for run in 128M:1 3G:1 6G:1 128M:2; do
  size=${run%:*}
  smp=${run#*:}
  dir=m$size
  [ "$smp" = 1 ] || dir=m$size-smp$smp
  rm -f "$work/dbg.txt" "$work/ram.bin"
  # The guest prints "!" when it has copied everything; the monitor then saves 34 x 128 KiB.
  {
    for _ in $(seq 100); do
      grep -q '!' "$work/dbg.txt" 2>/dev/null && break
      sleep 0.2
    done
    echo "pmemsave 0x100000 0x440000 \"$work/ram.bin\""
    sleep 2
    echo quit
  } | qemu-system-x86_64 -M pc -nodefaults -m "$size" -smp "$smp" -accel tcg -bios "$work/dump.bin" -display none \
    -chardev "file,id=dbg,path=$work/dbg.txt" -device isa-debugcon,iobase=0x402,chardev=dbg -monitor stdio >/dev/null
  node "$here/dump-fw-cfg.mjs" "$work/ram.bin" "$out/$dir"
done
