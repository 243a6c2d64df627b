// The vCPU state ioctls (see vcpu-state.h). Variable-length structs are built here from
// entry bytes whose count this file checks; the kernel never sees a length from JS.
#include "vcpu-state.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common.h"

namespace memtopo {

namespace {

bool Live(const Napi::CallbackInfo& info, int fd, const char* op) {
  if (fd >= 0) return true;
  ThrowArg(info.Env(), EBADF, op, "the vCPU is closed");
  return false;
}

Napi::Value Bytes(Napi::Env env, const void* data, size_t len) {
  Napi::Uint8Array out = Napi::Uint8Array::New(env, len);
  if (env.IsExceptionPending()) return env.Undefined();
  if (len != 0) memcpy(out.Data(), data, len);
  return out;
}

// A kernel header (its fixed fields only) followed by `n` entries at `entries_at`, 8-byte
// aligned and zeroed.
template <typename Header, typename Entry, size_t entries_at>
class Flex {
 public:
  explicit Flex(size_t n) : words_((entries_at + n * sizeof(Entry) + 7) / 8, 0) {}
  Header* header() { return reinterpret_cast<Header*>(words_.data()); }
  uint8_t* entries() { return reinterpret_cast<uint8_t*>(words_.data()) + entries_at; }

 private:
  std::vector<uint64_t> words_;
};

using CpuidBuffer = Flex<kvm_cpuid2, kvm_cpuid_entry2, kCpuid2EntriesAt>;
using MsrBuffer = Flex<kvm_msrs, kvm_msr_entry, kMsrsEntriesAt>;

// Entry bytes from JS: a whole number of entries, at most `max`.
bool EntryBytes(const Napi::CallbackInfo& info, const char* op, size_t entry_size, uint32_t max, uint8_t** data,
                size_t* count) {
  size_t len = 0;
  if (!ArgBytes(info, 0, op, "entries", data, &len)) return false;
  if (len % entry_size != 0) {
    ThrowArg(info.Env(), EINVAL, op, "entries must be a whole number of " + std::to_string(entry_size) + "-byte entries");
    return false;
  }
  *count = len / entry_size;
  if (*count > max) {
    ThrowArg(info.Env(), E2BIG, op, std::to_string(*count) + " entries, at most " + std::to_string(max));
    return false;
  }
  return true;
}

template <typename T>
Napi::Value GetFixed(const Napi::CallbackInfo& info, int fd, const char* op, unsigned long request, const char* name) {
  if (!ArgCount(info, 0, op) || !Live(info, fd, op)) return info.Env().Undefined();
  T value;
  memset(&value, 0, sizeof value);
  if (ioctl(fd, request, &value) < 0) {
    ThrowErrno(info.Env(), errno, name, "");
    return info.Env().Undefined();
  }
  return Bytes(info.Env(), &value, sizeof value);
}

template <typename T>
Napi::Value SetFixed(const Napi::CallbackInfo& info, int fd, const char* op, unsigned long request, const char* name) {
  uint8_t* data = nullptr;
  size_t len = 0;
  if (!ArgCount(info, 1, op) || !ArgBytes(info, 0, op, "bytes", &data, &len)) return info.Env().Undefined();
  if (len != sizeof(T)) {
    ThrowArg(info.Env(), EINVAL, op, "bytes must be exactly " + std::to_string(sizeof(T)) + " bytes long");
    return info.Env().Undefined();
  }
  if (!Live(info, fd, op)) return info.Env().Undefined();
  T value;
  memcpy(&value, data, sizeof value);
  if (ioctl(fd, request, &value) < 0) ThrowErrno(info.Env(), errno, name, "");
  return info.Env().Undefined();
}

}  // namespace

// KVM_GET_CPUID2 says E2BIG when `nent` is below the vCPU's count, and some kernels (6.1)
// leave `nent` as given on success, so the count is found as the smallest size that succeeds.
Napi::Value GetCpuid2(const Napi::CallbackInfo& info, int fd) {
  const char* op = "getCpuid2";
  if (!ArgCount(info, 0, op) || !Live(info, fd, op)) return info.Env().Undefined();
  auto ask = [fd](uint32_t nent, CpuidBuffer* buf) {
    *buf = CpuidBuffer(nent);
    buf->header()->nent = nent;
    return ioctl(fd, kKvmGetCpuid2, buf->header()) == 0 ? 0 : errno;
  };
  CpuidBuffer buf(0);
  int err = ask(kMaxCpuidEntries, &buf);
  if (err != 0) {
    ThrowErrno(info.Env(), err, "ioctl(KVM_GET_CPUID2)",
               err == E2BIG ? "more than " + std::to_string(kMaxCpuidEntries) + " entries" : "");
    return info.Env().Undefined();
  }
  uint32_t lo = 0, hi = kMaxCpuidEntries;  // hi succeeds; find the smallest that does
  if (buf.header()->nent < hi) hi = buf.header()->nent;  // a kernel that reports the count
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    err = ask(mid, &buf);
    if (err == 0) {
      hi = mid;
    } else if (err == E2BIG) {
      lo = mid + 1;
    } else {
      ThrowErrno(info.Env(), err, "ioctl(KVM_GET_CPUID2)", "");
      return info.Env().Undefined();
    }
  }
  err = ask(hi, &buf);
  if (err != 0) {
    ThrowErrno(info.Env(), err, "ioctl(KVM_GET_CPUID2)", std::to_string(hi) + " entries");
    return info.Env().Undefined();
  }
  return Bytes(info.Env(), buf.entries(), hi * sizeof(kvm_cpuid_entry2));
}

Napi::Value SetCpuid2(const Napi::CallbackInfo& info, int fd) {
  const char* op = "setCpuid2";
  uint8_t* data = nullptr;
  size_t n = 0;
  if (!ArgCount(info, 1, op) || !EntryBytes(info, op, sizeof(kvm_cpuid_entry2), kMaxCpuidEntries, &data, &n) ||
      !Live(info, fd, op))
    return info.Env().Undefined();
  CpuidBuffer buf(n);
  buf.header()->nent = static_cast<uint32_t>(n);
  if (n != 0) memcpy(buf.entries(), data, n * sizeof(kvm_cpuid_entry2));
  if (ioctl(fd, kKvmSetCpuid2, buf.header()) < 0)
    ThrowErrno(info.Env(), errno, "ioctl(KVM_SET_CPUID2)", std::to_string(n) + " entries");
  return info.Env().Undefined();
}

// KVM_GET_MSRS / KVM_SET_MSRS return how many entries they processed, stopping at the
// first MSR the kernel refuses.
static int MsrIo(const Napi::CallbackInfo& info, int fd, const char* op, unsigned long request, const char* name,
                 MsrBuffer* buf, size_t* n) {
  uint8_t* data = nullptr;
  if (!ArgCount(info, 1, op) || !EntryBytes(info, op, sizeof(kvm_msr_entry), kMaxMsrEntries, &data, n) ||
      !Live(info, fd, op))
    return -1;
  *buf = MsrBuffer(*n);
  buf->header()->nmsrs = static_cast<uint32_t>(*n);
  if (*n != 0) memcpy(buf->entries(), data, *n * sizeof(kvm_msr_entry));
  int r = ioctl(fd, request, buf->header());
  if (r < 0) {
    ThrowErrno(info.Env(), errno, name, std::to_string(*n) + " MSRs");
    return -1;
  }
  if (static_cast<size_t>(r) > *n) {
    ThrowErrno(info.Env(), EPROTO, name, "the kernel processed more MSRs than it was given");
    return -1;
  }
  return r;
}

Napi::Value GetMsrs(const Napi::CallbackInfo& info, int fd) {
  MsrBuffer buf(0);
  size_t n = 0;
  int r = MsrIo(info, fd, "getMsrs", kKvmGetMsrs, "ioctl(KVM_GET_MSRS)", &buf, &n);
  if (r < 0) return info.Env().Undefined();
  return Bytes(info.Env(), buf.entries(), static_cast<size_t>(r) * sizeof(kvm_msr_entry));
}

Napi::Value SetMsrs(const Napi::CallbackInfo& info, int fd) {
  MsrBuffer buf(0);
  size_t n = 0;
  int r = MsrIo(info, fd, "setMsrs", kKvmSetMsrs, "ioctl(KVM_SET_MSRS)", &buf, &n);
  if (r < 0) return info.Env().Undefined();
  return Napi::Number::New(info.Env(), r);
}

Napi::Value GetFpu(const Napi::CallbackInfo& info, int fd) {
  return GetFixed<kvm_fpu>(info, fd, "getFpu", KVM_GET_FPU, "ioctl(KVM_GET_FPU)");
}
Napi::Value SetFpu(const Napi::CallbackInfo& info, int fd) {
  return SetFixed<kvm_fpu>(info, fd, "setFpu", KVM_SET_FPU, "ioctl(KVM_SET_FPU)");
}
// The 4096-byte KVM_GET_XSAVE; a larger area (KVM_GET_XSAVE2, AMX) is not offered.
Napi::Value GetXsave(const Napi::CallbackInfo& info, int fd) {
  return GetFixed<XsaveArea>(info, fd, "getXsave", kKvmGetXsave, "ioctl(KVM_GET_XSAVE)");
}
Napi::Value SetXsave(const Napi::CallbackInfo& info, int fd) {
  return SetFixed<XsaveArea>(info, fd, "setXsave", kKvmSetXsave, "ioctl(KVM_SET_XSAVE)");
}
Napi::Value GetXcrs(const Napi::CallbackInfo& info, int fd) {
  return GetFixed<kvm_xcrs>(info, fd, "getXcrs", KVM_GET_XCRS, "ioctl(KVM_GET_XCRS)");
}
Napi::Value SetXcrs(const Napi::CallbackInfo& info, int fd) {
  return SetFixed<kvm_xcrs>(info, fd, "setXcrs", KVM_SET_XCRS, "ioctl(KVM_SET_XCRS)");
}
Napi::Value GetLapic(const Napi::CallbackInfo& info, int fd) {
  return GetFixed<kvm_lapic_state>(info, fd, "getLapic", KVM_GET_LAPIC, "ioctl(KVM_GET_LAPIC)");
}
Napi::Value SetLapic(const Napi::CallbackInfo& info, int fd) {
  return SetFixed<kvm_lapic_state>(info, fd, "setLapic", KVM_SET_LAPIC, "ioctl(KVM_SET_LAPIC)");
}
Napi::Value GetVcpuEvents(const Napi::CallbackInfo& info, int fd) {
  return GetFixed<kvm_vcpu_events>(info, fd, "getVcpuEvents", KVM_GET_VCPU_EVENTS, "ioctl(KVM_GET_VCPU_EVENTS)");
}
Napi::Value SetVcpuEvents(const Napi::CallbackInfo& info, int fd) {
  return SetFixed<kvm_vcpu_events>(info, fd, "setVcpuEvents", KVM_SET_VCPU_EVENTS, "ioctl(KVM_SET_VCPU_EVENTS)");
}
Napi::Value GetDebugRegs(const Napi::CallbackInfo& info, int fd) {
  return GetFixed<kvm_debugregs>(info, fd, "getDebugRegs", KVM_GET_DEBUGREGS, "ioctl(KVM_GET_DEBUGREGS)");
}
Napi::Value SetDebugRegs(const Napi::CallbackInfo& info, int fd) {
  return SetFixed<kvm_debugregs>(info, fd, "setDebugRegs", KVM_SET_DEBUGREGS, "ioctl(KVM_SET_DEBUGREGS)");
}
Napi::Value SetGuestDebug(const Napi::CallbackInfo& info, int fd) {
  return SetFixed<kvm_guest_debug>(info, fd, "setGuestDebug", KVM_SET_GUEST_DEBUG, "ioctl(KVM_SET_GUEST_DEBUG)");
}

Napi::Value GetMpState(const Napi::CallbackInfo& info, int fd) {
  const char* op = "getMpState";
  if (!ArgCount(info, 0, op) || !Live(info, fd, op)) return info.Env().Undefined();
  kvm_mp_state state = {0};
  if (ioctl(fd, KVM_GET_MP_STATE, &state) < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_GET_MP_STATE)", "");
    return info.Env().Undefined();
  }
  return Napi::Number::New(info.Env(), state.mp_state);
}

Napi::Value SetMpState(const Napi::CallbackInfo& info, int fd) {
  const char* op = "setMpState";
  uint32_t value = 0;
  if (!ArgCount(info, 1, op) || !ArgU32(info, 0, op, "state", &value) || !Live(info, fd, op))
    return info.Env().Undefined();
  kvm_mp_state state = {value};
  if (ioctl(fd, KVM_SET_MP_STATE, &state) < 0)
    ThrowErrno(info.Env(), errno, "ioctl(KVM_SET_MP_STATE)", "state " + std::to_string(value));
  return info.Env().Undefined();
}

Napi::Value Translate(const Napi::CallbackInfo& info, int fd) {
  const char* op = "translate";
  uint64_t linear = 0;
  if (!ArgCount(info, 1, op) || !ArgU64(info, 0, op, "linearAddress", &linear) || !Live(info, fd, op))
    return info.Env().Undefined();
  kvm_translation t;
  memset(&t, 0, sizeof t);
  t.linear_address = linear;
  if (ioctl(fd, KVM_TRANSLATE, &t) < 0) {
    ThrowErrno(info.Env(), errno, "ioctl(KVM_TRANSLATE)", "");
    return info.Env().Undefined();
  }
  return Bytes(info.Env(), &t, sizeof t);
}

}  // namespace memtopo
