#!/usr/bin/env bash
# What a guest of QEMU 7.2's `-M pc -nodefaults` (default -cpu qemu64) reads from CPUID: runs cpuid-dump.S as
# the BIOS and prints one line per leaf ("leaf subleaf eax ebx ecx edx", hex).
#
#   packages/pc/scripts/dump-cpuid.sh [tcg|kvm]       (kvm needs /dev/kvm: scripts/nested-kvm/run.sh)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
accel=${1:-tcg}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
as --32 -o "$work/dump.o" "$here/cpuid-dump.S"
ld -m elf_i386 -Ttext 0 -e 0 --oformat binary -o "$work/dump.bin" "$work/dump.o"
{
  for _ in $(seq 300); do
    grep -q '!' "$work/dbg.txt" 2>/dev/null && break
    sleep 0.2
  done
  echo "pmemsave 0x1000 0x1000 \"$work/ram.bin\""
  sleep 2
  echo quit
} | qemu-system-x86_64 -M pc -nodefaults -m 128M -accel "$accel" -bios "$work/dump.bin" -display none \
  -chardev "file,id=dbg,path=$work/dbg.txt" -device isa-debugcon,iobase=0x402,chardev=dbg -monitor stdio >/dev/null
node -e '
const b = require("fs").readFileSync(process.argv[1]);
for (let o = 0; b.readUInt32LE(o) !== 0xffffffff; o += 24)
  console.log([0, 1, 2, 3, 4, 5].map((i) => b.readUInt32LE(o + 4 * i).toString(16).padStart(8, "0")).join(" "));
' "$work/ram.bin"
