// The /dev/kvm (system fd) reads a VMM makes before it builds vCPUs: the CPUID KVM can
// offer or emulate, and the MSRs it can save and restore. Each call opens the device
// (only the KVM misc device, see OpenKvmDevice), asks, and closes it.
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common.h"
#include "vcpu-state.h"

namespace memtopo {

namespace {

// The device fd, closed when the call ends.
class Device {
 public:
  Device(const Napi::CallbackInfo& info, const char* op) {
    std::string path;
    if (!ArgCount(info, 1, op) || !ArgString(info, 0, op, "devicePath", &path, 4096)) return;
    fd_ = OpenKvmDevice(path);
    if (fd_ < 0) {
      ThrowErrno(info.Env(), -fd_, "open", path);
      fd_ = -1;
    }
  }
  ~Device() {
    if (fd_ >= 0) close(fd_);
  }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

Napi::Value Bytes(Napi::Env env, const void* data, size_t len) {
  Napi::Uint8Array out = Napi::Uint8Array::New(env, len);
  if (env.IsExceptionPending()) return env.Undefined();
  if (len != 0) memcpy(out.Data(), data, len);
  return out;
}

// KVM_GET_SUPPORTED_CPUID and KVM_GET_EMULATED_CPUID: E2BIG means the table did not fit,
// so the buffer doubles, as QEMU's try_get_cpuid loop does, up to kMaxCpuidEntries.
Napi::Value CpuidTable(const Napi::CallbackInfo& info, const char* op, unsigned long request, const char* name) {
  Device device(info, op);
  if (device.fd() < 0) return info.Env().Undefined();
  for (uint32_t nent = 64; nent <= kMaxCpuidEntries; nent *= 2) {
    std::vector<uint64_t> words((kCpuid2EntriesAt + nent * sizeof(kvm_cpuid_entry2) + 7) / 8, 0);
    kvm_cpuid2* cpuid = reinterpret_cast<kvm_cpuid2*>(words.data());
    const uint8_t* entries = reinterpret_cast<const uint8_t*>(words.data()) + kCpuid2EntriesAt;
    cpuid->nent = nent;
    if (ioctl(device.fd(), request, cpuid) == 0) {
      if (cpuid->nent > nent) break;
      return Bytes(info.Env(), entries, cpuid->nent * sizeof(kvm_cpuid_entry2));
    }
    if (errno != E2BIG) {
      ThrowErrno(info.Env(), errno, name, "");
      return info.Env().Undefined();
    }
  }
  ThrowErrno(info.Env(), E2BIG, name, "more than " + std::to_string(kMaxCpuidEntries) + " entries");
  return info.Env().Undefined();
}

// KVM_GET_MSR_INDEX_LIST and KVM_GET_MSR_FEATURE_INDEX_LIST: on E2BIG the kernel writes
// how many there are, so one probe with 0 sizes the buffer; a list that grew in between
// is asked for again.
Napi::Value MsrList(const Napi::CallbackInfo& info, const char* op, unsigned long request, const char* name) {
  Device device(info, op);
  if (device.fd() < 0) return info.Env().Undefined();
  uint32_t n = 0;
  for (int attempt = 0; attempt < 4; attempt++) {
    std::vector<uint32_t> words(kMsrListIndicesAt / sizeof(uint32_t) + n, 0);
    kvm_msr_list* list = reinterpret_cast<kvm_msr_list*>(words.data());
    const uint32_t* indices = words.data() + kMsrListIndicesAt / sizeof(uint32_t);
    list->nmsrs = n;
    if (ioctl(device.fd(), request, list) == 0) {
      if (list->nmsrs > n) break;
      return Bytes(info.Env(), indices, list->nmsrs * sizeof(uint32_t));
    }
    if (errno != E2BIG) {
      ThrowErrno(info.Env(), errno, name, "");
      return info.Env().Undefined();
    }
    if (list->nmsrs <= n || list->nmsrs > kMaxMsrIndices) break;
    n = list->nmsrs;
  }
  ThrowErrno(info.Env(), E2BIG, name, "the kernel's list did not fit " + std::to_string(n) + " entries");
  return info.Env().Undefined();
}

Napi::Value GetSupportedCpuid(const Napi::CallbackInfo& info) {
  return CpuidTable(info, "getSupportedCpuid", kKvmGetSupportedCpuid, "ioctl(KVM_GET_SUPPORTED_CPUID)");
}
Napi::Value GetEmulatedCpuid(const Napi::CallbackInfo& info) {
  return CpuidTable(info, "getEmulatedCpuid", kKvmGetEmulatedCpuid, "ioctl(KVM_GET_EMULATED_CPUID)");
}
Napi::Value GetMsrIndexList(const Napi::CallbackInfo& info) {
  return MsrList(info, "getMsrIndexList", kKvmGetMsrIndexList, "ioctl(KVM_GET_MSR_INDEX_LIST)");
}
Napi::Value GetMsrFeatureIndexList(const Napi::CallbackInfo& info) {
  return MsrList(info, "getMsrFeatureIndexList", kKvmGetMsrFeatureIndexList,
                 "ioctl(KVM_GET_MSR_FEATURE_INDEX_LIST)");
}

}  // namespace

void InitSystem(Napi::Env env, Napi::Object exports) {
  exports.Set("getSupportedCpuid", Napi::Function::New<GetSupportedCpuid>(env, "getSupportedCpuid"));
  exports.Set("getEmulatedCpuid", Napi::Function::New<GetEmulatedCpuid>(env, "getEmulatedCpuid"));
  exports.Set("getMsrIndexList", Napi::Function::New<GetMsrIndexList>(env, "getMsrIndexList"));
  exports.Set("getMsrFeatureIndexList", Napi::Function::New<GetMsrFeatureIndexList>(env, "getMsrFeatureIndexList"));
}

}  // namespace memtopo
