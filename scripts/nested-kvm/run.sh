#!/usr/bin/env bash
# Run a command where /dev/kvm exists, on a machine that has none: inside a Linux guest that QEMU runs
# under software emulation (TCG), whose emulated AMD CPU has SVM, so the guest kernel's kvm_amd gives it
# a real /dev/kvm. The guest mounts this machine's root filesystem over virtio-9p and chroots into it,
# so the command sees the same node, the same repository path and the same node_modules.
#
#   scripts/nested-kvm/run.sh [--cwd DIR] [--timeout SECONDS] [--env NAME]... -- <command...>
#
# The command's output is streamed; the exit status is the command's. Other exits:
#   77   nested KVM is not available here (one line on stderr says why): Debian packages or the guest
#        kernel cannot be had, the guest did not boot, or it has no /dev/kvm
#   124  the command did not finish within --timeout (default 3600 s, NESTED_KVM_TIMEOUT): the guest is killed
#   125  the guest stopped before the command finished (its console's last lines are printed)
#   2    bad arguments
# Cache (guest kernel, its modules, initramfs, job directories): $NESTED_KVM_CACHE, by default
# ~/.cache/memtopo-nested-kvm. See docs/nested-kvm.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${NESTED_KVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memtopo-nested-kvm}
timeout_s=${NESTED_KVM_TIMEOUT:-3600}
mem=${NESTED_KVM_MEM:-4G}
smp=${NESTED_KVM_SMP:-2}
# Any QEMU CPU model with SVM and NPT works; one without (qemu64,-svm) shows what exit 77 looks like.
cpu=${NESTED_KVM_CPU:-max}
cwd=$PWD
# Variables the command gets; the rest of this environment stays outside (the chroot starts clean).
envs=(PATH HOME LANG TZ CI NODE_OPTIONS FORCE_COLOR NO_COLOR)

unavailable() { echo "nested-kvm: unavailable: $*" >&2; exit 77; }
usage() { echo "usage: $0 [--cwd DIR] [--timeout SECONDS] [--env NAME]... -- <command...>" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --cwd)
      cwd=$(cd "$2" 2>/dev/null && pwd) || { echo "nested-kvm: --cwd $2: no such directory" >&2; exit 2; }
      shift 2
      ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
[ $# -gt 0 ] || usage

# A machine that has a usable /dev/kvm needs no emulated one: run the command as it is, unless told to nest.
if [ -z "${NESTED_KVM_FORCE:-}" ] && [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  cd "$cwd"
  exec "$@"
fi

# --- host tools -------------------------------------------------------------------------------------------
# All from Debian. busybox-static is the guest's whole userland until it chroots (a dynamic busybox would
# need a libc in the initramfs); kmod's modprobe works out the module load order on the host; cpio packs
# the initramfs; flock (util-linux) keeps two runs from preparing the cache at once.
need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || need_pkgs+=(busybox-static)
command -v cpio >/dev/null || need_pkgs+=(cpio)
{ command -v modprobe >/dev/null && command -v depmod >/dev/null; } || need_pkgs+=(kmod)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "nested-kvm: installing Debian packages ${need_pkgs[*]}" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}"; } >/dev/null 2>&1 \
    || unavailable "cannot install Debian packages ${need_pkgs[*]}"
fi

mkdir -p "$cache/jobs"
exec 9>"$cache/.lock"
flock 9

# --- guest kernel (cached) --------------------------------------------------------------------------------
# Debian's kernel is downloaded, never installed on this machine: dpkg -x unpacks it into the cache, and
# depmod there gives modprobe the dependency lists. Debian's config has kvm_amd, virtio_pci and 9p as modules.
fetch_kernel() {
  local tmp=$1 pkg
  cd "$tmp"
  # apt-get download drops to the _apt user where it can; in a root-only directory it warns, nothing more.
  apt-get download linux-image-amd64 >/dev/null 2>&1 || return 1
  pkg=$(dpkg-deb -f linux-image-amd64_*.deb Depends | tr ',|' '\n\n' | sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n 1)
  [ -n "$pkg" ] && apt-get download "$pkg" >/dev/null 2>&1 && dpkg -x "$pkg"_*.deb root
}
kdir=$(ls -d "$cache"/kernel-* 2>/dev/null | head -n 1 || true)
if [ -z "$kdir" ] || [ ! -f "$kdir/vmlinuz" ]; then
  echo "nested-kvm: fetching Debian's linux-image-amd64 into $cache" >&2
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  # Stale package lists name a kernel the mirror no longer has: refresh them once and try again.
  (fetch_kernel "$tmp") || { rm -rf "$tmp"/*; apt-get update -qq >/dev/null 2>&1; (fetch_kernel "$tmp"); } \
    || { rm -rf "$tmp"; unavailable "cannot download Debian's linux-image-amd64"; }
  kver=$(ls "$tmp/root/lib/modules" | head -n 1)
  mkdir -p "$tmp/kernel-$kver/lib/modules"
  cp "$tmp/root/boot/vmlinuz-$kver" "$tmp/kernel-$kver/vmlinuz"
  mv "$tmp/root/lib/modules/$kver" "$tmp/kernel-$kver/lib/modules/"
  depmod -b "$tmp/kernel-$kver" "$kver"
  mv "$tmp/kernel-$kver" "$cache/"
  rm -rf "$tmp"
  kdir="$cache/kernel-$kver"
fi
kver=${kdir##*/kernel-}

# --- initramfs (cached) -----------------------------------------------------------------------------------
# Named by a hash of init.sh and this script, so editing either builds a fresh one.
stamp=$(cat "$here/run.sh" "$here/init.sh" | sha256sum | cut -c1-16)
initrd="$kdir/initramfs-$stamp.cpio.gz"
if [ ! -f "$initrd" ]; then
  # Older ones are from earlier versions of these scripts: a few MB each, never used again.
  rm -f "$kdir"/initramfs-*.cpio.gz
  tmp=$(mktemp -d "$cache/.initrd.XXXXXX")
  mkdir -p "$tmp"/{bin,dev,proc,sys,modules}
  cp /bin/busybox "$tmp/bin/busybox"
  cp "$here/init.sh" "$tmp/init"
  chmod 755 "$tmp/init"
  # KVM for the AMD CPU that TCG emulates, and virtio-9p for the host's root filesystem, in load order.
  for m in kvm_amd virtio_pci 9pnet_virtio 9p; do
    modprobe -d "$kdir" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
  done | awk '!seen[$0]++' | while read -r ko; do
    cp "$ko" "$tmp/modules/"
    basename "$ko" >> "$tmp/modules/order"
  done
  (cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$initrd.part"
  mv "$initrd.part" "$initrd"
  rm -rf "$tmp"
fi
flock -u 9

# --- the job ----------------------------------------------------------------------------------------------
# A job directory on this machine's filesystem is the guest's mailbox: cmd.sh in; out, status and kvm back.
job=$(mktemp -d "$cache/jobs/job.XXXXXX")
qemu=
tailer=
# Whatever ends this script (a signal from CI included) must not leave an emulator running.
cleanup() {
  # TERM to timeout(1) reaches QEMU too; KILL would end timeout alone and orphan QEMU.
  [ -n "$qemu" ] && kill -TERM "$qemu" 2>/dev/null
  [ -n "$tailer" ] && kill "$tailer" 2>/dev/null
  rm -rf "$job"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
{
  echo "# written by scripts/nested-kvm/run.sh"
  for v in "${envs[@]}"; do
    if [ -n "${!v+x}" ]; then printf 'export %s=%q\n' "$v" "${!v}"; fi
  done
  echo "export NESTED_KVM=1"
  printf 'cd %q || exit 126\n' "$cwd"
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} > "$job/cmd.sh"
: > "$job/out"

# timeout(1) sends TERM (QEMU exits on it) and KILL 10 s later; either way it exits 124 or 137.
# -cpu max under TCG has SVM with nested paging, which kvm_amd needs. -nodefaults: no NIC (the guest has
# no network), no VGA. The serial console goes to a file that is only read when something went wrong.
start=$(date +%s)
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
  -accel tcg,thread=multi -cpu "$cpu" -smp "$smp" -m "$mem" \
  -nodefaults -display none -no-reboot -monitor none \
  -serial "file:$job/console.log" \
  -kernel "$kdir/vmlinuz" -initrd "$initrd" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 nk.job=$job" \
  -virtfs "local,path=/,mount_tag=hostroot,security_model=passthrough,multidevs=remap" &
qemu=$!
# Stream the command's output while the guest runs; tail stops on its own once QEMU has exited.
tail -n +1 -F --pid="$qemu" "$job/out" 2>/dev/null &
tailer=$!
set +e
wait "$qemu"
qstatus=$?
wait "$tailer"
set -e
qemu=
tailer=
elapsed=$(($(date +%s) - start))

console_tail() { tail -n 30 "$job/console.log" >&2 || true; }
if [ ! -f "$job/kvm" ]; then
  if { [ "$qstatus" -eq 124 ] || [ "$qstatus" -eq 137 ]; }; then echo "nested-kvm: timed out after ${timeout_s}s before the guest came up" >&2; exit 124; fi
  echo "nested-kvm: the guest never came up (QEMU exit $qstatus after ${elapsed}s); its console:" >&2
  console_tail
  unavailable "the nested guest did not boot"
fi
if [ "$(cat "$job/kvm")" != yes ]; then
  cat "$job/kvm-dmesg" >&2 2>/dev/null || true
  unavailable "the nested guest has no /dev/kvm (kvm_amd did not bind)"
fi
if [ ! -f "$job/status" ]; then
  if { [ "$qstatus" -eq 124 ] || [ "$qstatus" -eq 137 ]; }; then echo "nested-kvm: timed out after ${timeout_s}s; the guest was killed" >&2; exit 124; fi
  echo "nested-kvm: the guest stopped before the command finished (QEMU exit $qstatus); its console:" >&2
  console_tail
  exit 125
fi
status=$(cat "$job/status")
echo "nested-kvm: exit $status after ${elapsed}s" >&2
exit "$status"
