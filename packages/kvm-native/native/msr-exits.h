// User-space MSR exits (KVM_EXIT_X86_RDMSR/WRMSR): the VM ioctls that turn them on.
// The Vm class forwards to these with its fd (-1 once closed).
#pragma once

#include <napi.h>

namespace memtopo {

// enableUserSpaceMsr(mask): KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR) with a
// KVM_MSR_EXIT_REASON_* mask.
Napi::Value EnableUserSpaceMsr(const Napi::CallbackInfo& info, int vm_fd);
// setMsrFilter(flags, ranges, bitmaps): KVM_X86_SET_MSR_FILTER. `ranges` holds one
// (flags, nmsrs, base) u32 triple per range; `bitmaps` their bitmaps back to back,
// (nmsrs + 7) / 8 bytes each.
Napi::Value SetMsrFilter(const Napi::CallbackInfo& info, int vm_fd);

}  // namespace memtopo
