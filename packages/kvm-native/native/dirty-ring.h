// KVM's dirty ring (KVM_CAP_DIRTY_LOG_RING): enabled on the VM before any vCPU, then one
// ring of struct kvm_dirty_gfn per vCPU, mmapped from the vCPU fd, which userspace reaps
// and the kernel recycles on KVM_RESET_DIRTY_RINGS.
#pragma once

#include <linux/kvm.h>
#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace memtopo {

// enableDirtyLogRing(bytes): KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING, bytes). On success
// `*ring_bytes` is what each vCPU created from then on maps; the kernel's own checks
// (power of two, at least a page, at most its maximum, once, before any vCPU) decide.
Napi::Value EnableDirtyLogRing(const Napi::CallbackInfo& info, int vm_fd, uint32_t* ring_bytes);
// resetDirtyRings(): KVM_RESET_DIRTY_RINGS; the number of entries the kernel recycled.
Napi::Value ResetDirtyRings(const Napi::CallbackInfo& info, int vm_fd);

// One vCPU's ring as userspace sees it: the mapping and the fetch index.
class DirtyRing {
 public:
  // Maps the ring of `vcpu_fd` (`bytes` as the VM enabled it; 0: no ring). Returns 0 or an errno.
  int Map(int vcpu_fd, uint32_t bytes);
  // reapDirtyRing(): every published entry from the fetch index on, each marked collected,
  // as a BigUint64Array of (slot, offset) pairs; empty without a ring.
  Napi::Value Reap(const Napi::CallbackInfo& info);
  void Unmap();
  ~DirtyRing() { Unmap(); }

 private:
  kvm_dirty_gfn* gfns_ = nullptr;
  size_t bytes_ = 0;
  uint32_t count_ = 0;
  uint32_t fetch_ = 0;
};

}  // namespace memtopo
