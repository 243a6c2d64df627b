#include "msr-exits.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "common.h"

namespace memtopo {

namespace {

const uint32_t kMsrExitReasons = KVM_MSR_EXIT_REASON_INVAL | KVM_MSR_EXIT_REASON_UNKNOWN | KVM_MSR_EXIT_REASON_FILTER;
const size_t kRangeBytes = 3 * sizeof(uint32_t);

bool OpenVm(const Napi::CallbackInfo& info, int vm_fd, const char* op) {
  if (vm_fd >= 0) return true;
  ThrowArg(info.Env(), EBADF, op, "the VM is closed");
  return false;
}

}  // namespace

Napi::Value EnableUserSpaceMsr(const Napi::CallbackInfo& info, int vm_fd) {
  const char* op = "enableUserSpaceMsr";
  uint32_t mask = 0;
  if (!ArgCount(info, 1, op) || !ArgU32(info, 0, op, "mask", &mask) || !OpenVm(info, vm_fd, op))
    return info.Env().Undefined();
  if ((mask & ~kMsrExitReasons) != 0) {
    ThrowArg(info.Env(), EINVAL, op, "mask has bits that are no KVM_MSR_EXIT_REASON_*");
    return info.Env().Undefined();
  }
  kvm_enable_cap cap = {};
  cap.cap = KVM_CAP_X86_USER_SPACE_MSR;
  cap.args[0] = mask;
  if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_ENABLE_CAP)", "KVM_CAP_X86_USER_SPACE_MSR");
  }
  return info.Env().Undefined();
}

Napi::Value SetMsrFilter(const Napi::CallbackInfo& info, int vm_fd) {
  const char* op = "setMsrFilter";
  uint32_t flags = 0;
  uint8_t* ranges = nullptr;
  size_t ranges_len = 0;
  uint8_t* bitmaps = nullptr;
  size_t bitmaps_len = 0;
  if (!ArgCount(info, 3, op) || !ArgU32(info, 0, op, "flags", &flags) ||
      !ArgBytes(info, 1, op, "ranges", &ranges, &ranges_len) ||
      !ArgBytes(info, 2, op, "bitmaps", &bitmaps, &bitmaps_len) || !OpenVm(info, vm_fd, op))
    return info.Env().Undefined();
  if ((flags & ~KVM_MSR_FILTER_DEFAULT_DENY) != 0) {
    ThrowArg(info.Env(), EINVAL, op, "flags must be KVM_MSR_FILTER_DEFAULT_ALLOW or _DENY");
    return info.Env().Undefined();
  }
  if (ranges_len % kRangeBytes != 0 || ranges_len / kRangeBytes > KVM_MSR_FILTER_MAX_RANGES) {
    ThrowArg(info.Env(), EINVAL, op, "ranges must hold at most 16 (flags, nmsrs, base) u32 triples");
    return info.Env().Undefined();
  }
  kvm_msr_filter filter;
  memset(&filter, 0, sizeof filter);
  filter.flags = flags;
  size_t at = 0;
  for (size_t i = 0; i < ranges_len / kRangeBytes; i++) {
    uint32_t field[3];
    memcpy(field, ranges + i * kRangeBytes, kRangeBytes);
    kvm_msr_filter_range& r = filter.ranges[i];
    r.flags = field[0];
    r.nmsrs = field[1];
    r.base = field[2];
    uint64_t bytes = (static_cast<uint64_t>(r.nmsrs) + 7) / 8;
    if (r.flags == 0 || (r.flags & ~(KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE)) != 0 || r.nmsrs == 0 ||
        bytes > KVM_MSR_FILTER_MAX_BITMAP_SIZE || bytes > bitmaps_len - at) {
      ThrowArg(info.Env(), EINVAL, op,
               "range " + std::to_string(i) +
                   ": flags must be READ and/or WRITE, nmsrs in [1, 0x3000], and its bitmap within bitmaps");
      return info.Env().Undefined();
    }
    r.bitmap = bitmaps + at;
    at += bytes;
  }
  if (at != bitmaps_len) {
    ThrowArg(info.Env(), EINVAL, op, "bitmaps is longer than the ranges' bitmaps together");
    return info.Env().Undefined();
  }
  // The kernel copies the bitmaps during the ioctl: pointers into the caller's bytes are enough.
  if (ioctl(vm_fd, KVM_X86_SET_MSR_FILTER, &filter) < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_X86_SET_MSR_FILTER)", "");
  }
  return info.Env().Undefined();
}

}  // namespace memtopo
