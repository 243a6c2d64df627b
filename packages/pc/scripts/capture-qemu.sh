#!/usr/bin/env bash
# Regenerates packages/fixtures/pc/: QEMU 7.2's `-M pc -nodefaults -accel kvm` running SeaBIOS at
# -m 128M, 3G and 6G (with and without the kvmvapic option ROM), captured by capture-qemu.mjs. QEMU needs
# /dev/kvm: where there is none, the whole run happens in one nested-KVM guest (scripts/nested-kvm/run.sh),
# which runs this script again with --inside.
#
#   packages/pc/scripts/capture-qemu.sh [OUT_DIR]        (default: packages/fixtures/pc)
#   BIOS=FILE overrides the firmware (default /usr/share/seabios/bios.bin, what `memtopo pc` loads)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)

if [ "${1:-}" = "--inside" ]; then
  out=$2
  bios=$3
  # <directory> <-m> [capture-qemu.mjs arguments]
  while read -r dir size rest; do
    echo "capture-qemu: $dir"
    # shellcheck disable=SC2086 # rest is a word list on purpose
    node "$here/capture-qemu.mjs" --out "$out/$dir" -m "$size" --bios "$bios" --timeout 300 $rest
  done <<JOBS
m128M 128M
m3G 3G
m6G 6G
m128M-novapic 128M -- -global kvm-apic.vapic=off
m3G-novapic 3G -- -global kvm-apic.vapic=off
m6G-novapic 6G -- -global kvm-apic.vapic=off
m128M-nodebugcon 128M --no-debugcon
JOBS
  exit 0
fi

out=${1:-$here/../../fixtures/pc}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bios=${BIOS:-/usr/share/seabios/bios.bin}
# -m 6G needs more than the guest's default 4G for QEMU's RAM reservation (the kernel's overcommit heuristic).
NESTED_KVM_MEM=${NESTED_KVM_MEM:-8G} NESTED_KVM_SMP=${NESTED_KVM_SMP:-1} "$root/scripts/nested-kvm/run.sh" --timeout 1800 -- "$here/capture-qemu.sh" --inside "$out" "$bios"
