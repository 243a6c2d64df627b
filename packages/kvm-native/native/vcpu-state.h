// Typed vCPU state (CPUID, MSRs, FPU, XSAVE, XCRs, LAPIC, events, MP state, debug
// registers, guest debug, KVM_TRANSLATE) and the /dev/kvm reads that go with it
// (supported CPUID, MSR index lists). Each entry validates every argument, then checks
// the vCPU fd (-1 once closed: EBADF), issues one ioctl and returns the struct's bytes,
// which TypeScript decodes with the offsets of VcpuStateLayoutObject.
#pragma once

#include <linux/kvm.h>
#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace memtopo {

using VcpuStateCall = Napi::Value (*)(const Napi::CallbackInfo& info, int vcpu_fd);

// getCpuid2() -> kvm_cpuid_entry2 bytes; setCpuid2(entryBytes).
Napi::Value GetCpuid2(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value SetCpuid2(const Napi::CallbackInfo& info, int vcpu_fd);
// getMsrs(entryBytes) -> the entries read (kvm_msr_entry bytes); setMsrs(entryBytes) -> count written.
Napi::Value GetMsrs(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value SetMsrs(const Napi::CallbackInfo& info, int vcpu_fd);
// get*() -> the struct's bytes; set*(bytes) with exactly sizeof(struct) bytes.
Napi::Value GetFpu(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value SetFpu(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value GetXsave(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value SetXsave(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value GetXcrs(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value SetXcrs(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value GetLapic(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value SetLapic(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value GetVcpuEvents(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value SetVcpuEvents(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value GetDebugRegs(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value SetDebugRegs(const Napi::CallbackInfo& info, int vcpu_fd);
// getMpState() -> number; setMpState(state).
Napi::Value GetMpState(const Napi::CallbackInfo& info, int vcpu_fd);
Napi::Value SetMpState(const Napi::CallbackInfo& info, int vcpu_fd);
// setGuestDebug(bytes of struct kvm_guest_debug).
Napi::Value SetGuestDebug(const Napi::CallbackInfo& info, int vcpu_fd);
// translate(linearAddress) -> struct kvm_translation bytes.
Napi::Value Translate(const Napi::CallbackInfo& info, int vcpu_fd);

// Module functions on the KVM device (system.cc): getSupportedCpuid(devicePath),
// getEmulatedCpuid(devicePath), getMsrIndexList(devicePath), getMsrFeatureIndexList(devicePath).
void InitSystem(Napi::Env env, Napi::Object exports);

// layout.vcpuState: offsets of the structs above, and the entry limits.
Napi::Object VcpuStateLayoutObject(Napi::Env env);

// The most entries a kvm_cpuid2 or kvm_msrs this addon builds may have: bounds the buffers
// whatever JS asks for (the kernel's own limits are lower and give E2BIG).
constexpr uint32_t kMaxCpuidEntries = 4096;
constexpr uint32_t kMaxMsrEntries = 4096;
constexpr uint32_t kMaxMsrIndices = 65536;

// Where the kernel's flexible arrays start. Not sizeof/offsetof: <linux/kvm.h> declares them
// behind an empty struct, 0 bytes in the kernel's C and 1 byte in C++.
constexpr size_t kCpuid2EntriesAt = 8;   // after nent, padding
constexpr size_t kMsrsEntriesAt = 8;     // after nmsrs, pad
constexpr size_t kMsrListIndicesAt = 4;  // after nmsrs

// The same empty struct makes <linux/kvm.h>'s request numbers wrong in C++: an ioctl number
// carries the struct's size, so KVM_GET_CPUID2 would be 0xc00cae91 where the kernel wants
// 0xc008ae91 (and fail with ENOTTY or EINVAL). These are built from the kernel's sizes.
struct Cpuid2Header {
  __u32 nent;
  __u32 padding;
};
struct MsrsHeader {
  __u32 nmsrs;
  __u32 pad;
};
struct MsrListHeader {
  __u32 nmsrs;
};
// struct kvm_xsave without the KVM_GET_XSAVE2 tail.
struct XsaveArea {
  __u32 region[1024];
};
constexpr unsigned long kKvmGetSupportedCpuid = _IOWR(KVMIO, 0x05, Cpuid2Header);
constexpr unsigned long kKvmGetEmulatedCpuid = _IOWR(KVMIO, 0x09, Cpuid2Header);
constexpr unsigned long kKvmGetMsrIndexList = _IOWR(KVMIO, 0x02, MsrListHeader);
constexpr unsigned long kKvmGetMsrFeatureIndexList = _IOWR(KVMIO, 0x0a, MsrListHeader);
constexpr unsigned long kKvmGetCpuid2 = _IOWR(KVMIO, 0x91, Cpuid2Header);
constexpr unsigned long kKvmSetCpuid2 = _IOW(KVMIO, 0x90, Cpuid2Header);
constexpr unsigned long kKvmGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
constexpr unsigned long kKvmSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);
constexpr unsigned long kKvmGetXsave = _IOR(KVMIO, 0xa4, XsaveArea);
constexpr unsigned long kKvmSetXsave = _IOW(KVMIO, 0xa5, XsaveArea);

}  // namespace memtopo
