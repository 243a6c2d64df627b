#!/bin/busybox sh
# /init of the nested-KVM guest (run.sh packs it into the initramfs with busybox-static and the kernel modules).
# It loads KVM and virtio-9p, mounts the host's root filesystem, and runs the job that run.sh wrote there.
# Everything it learns goes to the host through files in the job directory, because the serial console
# is a tty that mixes kernel messages in and rewrites newlines.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# The job directory is passed on the kernel command line as nk.job=/abs/path (a host path).
job=
for arg in $(cat /proc/cmdline); do
  case "$arg" in nk.job=*) job=${arg#nk.job=} ;; esac
done

# A guest that cannot report must still power off, or run.sh would wait for its time-out.
die() { echo "nested-kvm-init: $*"; poweroff -f; }

# Module order was worked out on the host with `modprobe --show-depends` (busybox has no depmod data).
while read -r mod; do
  insmod "/modules/$mod" || echo "nested-kvm-init: insmod $mod failed"
done < /modules/order

mkdir -p /host
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose hostroot /host || die "cannot mount the host root over 9p"
[ -n "$job" ] && [ -d "/host$job" ] || die "no job directory '$job'"
r="/host$job"

# Record what the guest has, before anything can fail, so run.sh can tell "no nesting" from "command failed".
if [ -c /dev/kvm ]; then echo yes > "$r/kvm"; else
  echo no > "$r/kvm"
  dmesg | grep -i -E 'kvm|svm' > "$r/kvm-dmesg" 2>/dev/null
fi

# /tmp stays the host's own: the repository or the job directory may live under it.
# The chroot gets fresh kernel filesystems: the host's /proc, /sys and /dev seen through 9p are the host's,
# not this kernel's, and /dev/kvm exists only in the guest's devtmpfs.
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -o bind /dev /host/dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm

# job/cmd.sh runs in the host's own userland (its node, the repo at its own path, its node_modules).
# stdout/stderr go to job/out, which run.sh streams; the exit status goes to job/status last, so its
# presence means the command finished.
chroot /host /bin/sh -c "sh '$job/cmd.sh' > '$job/out' 2>&1; echo \$? > '$job/status.tmp'; mv '$job/status.tmp' '$job/status'"
sync
umount /host/dev/shm /host/dev/pts /host/dev /host/sys /host/proc 2>/dev/null
umount /host 2>/dev/null
poweroff -f
