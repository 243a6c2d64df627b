/* The floor for one exit: a VMM that does nothing but KVM_RUN again. It runs bios.bin the way
 * QEMU -M pc -bios does (image at 0xF0000, 640 KiB of RAM at 0, a read-only slot over
 * 0xC0000-0xDFFFF so MMIO stores there exit the same way) and stops at the write to port 0xF4.
 * Prints "exits=N loop_s=S tsc_hz=F guest=G": the exits of the guest's loop, the time around the
 * KVM_RUN loop, this CPU's TSC rate measured over that time (to turn guest ticks into seconds), and
 * the guest's own line from port 0x402 (its loop's TSC ticks, hex).
 * Build: gcc -O2 -o raw raw.c    Run: ./raw bios.bin */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

static void die(const char *what) {
  fprintf(stderr, "raw: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void *anon(size_t len) {
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap");
  return p;
}

static void slot(int vm, uint32_t id, uint32_t flags, uint64_t gpa, uint64_t len, void *host) {
  struct kvm_userspace_memory_region r = {
      .slot = id, .flags = flags, .guest_phys_addr = gpa, .memory_size = len, .userspace_addr = (uintptr_t)host};
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0) die("KVM_SET_USER_MEMORY_REGION");
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s bios.bin\n", argv[0]);
    return 2;
  }
  uint8_t *bios = anon(0x10000);
  int f = open(argv[1], O_RDONLY);
  if (f < 0 || read(f, bios, 0x10000) != 0x10000) die(argv[1]);
  close(f);

  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) die("/dev/kvm");
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0) die("KVM_CREATE_VM");
  slot(vm, 0, 0, 0, 0xa0000, anon(0xa0000));
  slot(vm, 1, KVM_MEM_READONLY, 0xc0000, 0x20000, anon(0x20000));
  slot(vm, 2, KVM_MEM_READONLY, 0xf0000, 0x10000, bios);

  int cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  if (cpu < 0) die("KVM_CREATE_VCPU");
  int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  struct kvm_run *run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
  if (run == MAP_FAILED) die("mmap kvm_run");

  /* Reset state is already real mode; only CS has to point at the image's reset vector. */
  struct kvm_sregs s;
  if (ioctl(cpu, KVM_GET_SREGS, &s) < 0) die("KVM_GET_SREGS");
  s.cs.selector = 0xf000;
  s.cs.base = 0xf0000;
  if (ioctl(cpu, KVM_SET_SREGS, &s) < 0) die("KVM_SET_SREGS");
  struct kvm_regs r = {.rip = 0xfff0, .rflags = 2};
  if (ioctl(cpu, KVM_SET_REGS, &r) < 0) die("KVM_SET_REGS");

  uint64_t exits = 0;
  char guest[32] = "";
  size_t guest_len = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  uint64_t tsc0 = __rdtsc();
  for (;;) {
    if (ioctl(cpu, KVM_RUN, 0) < 0) {
      if (errno == EINTR) continue;
      die("KVM_RUN");
    }
    if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0xf4) break;
    if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0x402) {
      char ch = *((char *)run + run->io.data_offset);
      if (ch != '\n' && guest_len + 1 < sizeof guest) guest[guest_len++] = ch;
      continue;
    }
    if (run->exit_reason != KVM_EXIT_IO && run->exit_reason != KVM_EXIT_MMIO) {
      fprintf(stderr, "raw: unexpected exit %u after %llu exits\n", run->exit_reason, (unsigned long long)exits);
      return 1;
    }
    exits++;
  }
  uint64_t tsc1 = __rdtsc();
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("exits=%llu loop_s=%.9f tsc_hz=%.0f guest=%s\n", (unsigned long long)exits, secs, (double)(tsc1 - tsc0) / secs,
         guest);
  return 0;
}
