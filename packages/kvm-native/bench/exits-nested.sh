#!/usr/bin/env bash
# Per-exit cost of memtopo's TypeScript dispatch and of QEMU 7.2, each against its own raw floor,
# measured side by side in ONE environment: a nested-KVM guest (docs/exits-nested.md), or with
# --direct this host's own /dev/kvm (docs/benchmarks.md, "Native exits").
#   packages/kvm-native/bench/exits-nested.sh [--direct] [--n 2000] [--reps 3] [--json FILE]
# Builds on the host (gcc, GNU as; kvm-native's dist must be built: `pnpm build`), then runs
# exits-nested.mjs inside scripts/nested-kvm/run.sh, or with --direct right here (needs /dev/kvm
# and qemu-system-x86_64 on this machine). Refuses to start while another QEMU runs, since a
# second QEMU on this 2-core machine would share the CPUs with the measurement.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
n=2000
direct=
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --direct) direct=1; shift ;;
    --n) n=$2; args+=("$1" "$2"); shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done

if [ -z "${EXITS_NESTED_BUSY_OK:-}" ] && pgrep -a qemu-system >&2; then
  echo "exits-nested: another QEMU is running (above); wait for it or set EXITS_NESTED_BUSY_OK=1" >&2
  exit 75
fi
[ -f "$here/../dist/index.js" ] || { echo "exits-nested: build kvm-native first (pnpm build)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/memtopo-exits-nested.XXXXXX")
trap 'rm -rf "$work"' EXIT
gcc -O2 -Wall -o "$work/raw" "$here/exits-nested/raw.c"
gcc -O2 -Wall -o "$work/cputime" "$here/exits-nested/cputime.c"
for mode in 0 1; do
  for count in 0 "$n"; do
    as --32 --defsym COUNT="$count" --defsym MODE="$mode" -o "$work/bios.o" "$here/exits-nested/bios.S"
    objcopy -O binary -j .text "$work/bios.o" "$work/bios-$mode-$count.bin"
  done
done
# Every variant runs on the same one of the guest's vCPUs (EXITS_NESTED_PIN, "" for none): a vCPU
# thread that the guest's scheduler moves between CPUs pays for the move, and not every run alike.
# Directly on the host nothing is pinned by default (other work shares its CPUs; set the variable
# to pin there too).
pin=()
if [ -n "$direct" ]; then
  [ -n "${EXITS_NESTED_PIN-}" ] && pin=(taskset -c "$EXITS_NESTED_PIN")
  command -v qemu-system-x86_64 >/dev/null || { echo "exits-nested: --direct needs qemu-system-x86_64 here" >&2; exit 2; }
  cd "$here/.."
  echo "direct on $(uname -nr), $(ls /sys/module | grep '^kvm_' | tr '\n' ' ')$(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  "${pin[@]}" node bench/exits-nested.mjs --work "$work" "${args[@]}"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  exit 0
fi
[ -n "${EXITS_NESTED_PIN-1}" ] && pin=(taskset -c "${EXITS_NESTED_PIN-1}")
"$repo/scripts/nested-kvm/run.sh" --cwd "$here/.." --timeout "${EXITS_NESTED_TIMEOUT:-2400}" -- \
  "${pin[@]}" node bench/exits-nested.mjs --work "$work" "${args[@]}"
