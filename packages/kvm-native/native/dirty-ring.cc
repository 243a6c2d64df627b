// The dirty ring's ioctls and the userspace half of its protocol: an entry belongs to
// userspace once the kernel's store of KVM_DIRTY_GFN_F_DIRTY is seen (acquire), and goes
// back with a store of KVM_DIRTY_GFN_F_RESET (release), as the kernel's documentation of
// the ring requires.
#include "dirty-ring.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "common.h"

namespace memtopo {

Napi::Value EnableDirtyLogRing(const Napi::CallbackInfo& info, int vm_fd, uint32_t* ring_bytes) {
  const char* op = "enableDirtyLogRing";
  uint32_t bytes = 0;
  if (!ArgCount(info, 1, op) || !ArgU32(info, 0, op, "bytes", &bytes)) return info.Env().Undefined();
  if (vm_fd < 0) {
    ThrowArg(info.Env(), EBADF, op, "the VM is closed");
    return info.Env().Undefined();
  }
  kvm_enable_cap cap = {};
  cap.cap = KVM_CAP_DIRTY_LOG_RING;
  cap.args[0] = bytes;
  if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_ENABLE_CAP)", "KVM_CAP_DIRTY_LOG_RING " + std::to_string(bytes));
    return info.Env().Undefined();
  }
  *ring_bytes = bytes;
  return info.Env().Undefined();
}

Napi::Value ResetDirtyRings(const Napi::CallbackInfo& info, int vm_fd) {
  const char* op = "resetDirtyRings";
  if (!ArgCount(info, 0, op)) return info.Env().Undefined();
  if (vm_fd < 0) {
    ThrowArg(info.Env(), EBADF, op, "the VM is closed");
    return info.Env().Undefined();
  }
  int n = ioctl(vm_fd, KVM_RESET_DIRTY_RINGS, 0);
  if (n < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_RESET_DIRTY_RINGS)", "");
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), n);
}

int DirtyRing::Map(int vcpu_fd, uint32_t bytes) {
  if (bytes == 0) return 0;
  long page = sysconf(_SC_PAGESIZE);
  // The ring lives at page KVM_DIRTY_LOG_PAGE_OFFSET of the vCPU fd, `bytes` long (the size
  // the VM was given, so every page of the mapping is one the kernel backs).
  void* ring = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd,
                    static_cast<off_t>(KVM_DIRTY_LOG_PAGE_OFFSET) * page);
  if (ring == MAP_FAILED) return errno;
  gfns_ = static_cast<kvm_dirty_gfn*>(ring);
  bytes_ = bytes;
  count_ = static_cast<uint32_t>(bytes / sizeof(kvm_dirty_gfn));
  fetch_ = 0;
  return 0;
}

void DirtyRing::Unmap() {
  if (gfns_ != nullptr) munmap(gfns_, bytes_);
  gfns_ = nullptr;
  bytes_ = 0;
  count_ = 0;
}

Napi::Value DirtyRing::Reap(const Napi::CallbackInfo& info) {
  const char* op = "reapDirtyRing";
  if (!ArgCount(info, 0, op)) return info.Env().Undefined();
  std::vector<uint64_t> out;
  // At most one lap: the kernel cannot publish more entries than the ring holds.
  for (uint32_t n = 0; gfns_ != nullptr && n < count_; n++) {
    kvm_dirty_gfn* e = &gfns_[fetch_ & (count_ - 1)];
    uint32_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
    if ((flags & KVM_DIRTY_GFN_F_DIRTY) == 0) break;
    out.push_back(e->slot);
    out.push_back(e->offset);
    __atomic_store_n(&e->flags, static_cast<uint32_t>(KVM_DIRTY_GFN_F_RESET), __ATOMIC_RELEASE);
    fetch_++;
  }
  Napi::BigUint64Array pairs = Napi::BigUint64Array::New(info.Env(), out.size());
  if (info.Env().IsExceptionPending()) return info.Env().Undefined();
  for (size_t i = 0; i < out.size(); i++) pairs[i] = out[i];
  return pairs;
}

}  // namespace memtopo
