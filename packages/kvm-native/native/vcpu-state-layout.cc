// layout.vcpuState: offsets of the vCPU state structs from <linux/kvm.h> / <asm/kvm.h>,
// for the TypeScript codecs. The static_asserts pin the x86-64 ABI the codecs' tests
// were written against.
#include <linux/kvm.h>

#include <cstddef>

#include "common.h"
#include "vcpu-state.h"

namespace memtopo {

static_assert(sizeof(kvm_cpuid_entry2) == 40, "kvm_cpuid_entry2");
static_assert(offsetof(kvm_cpuid2, padding) + sizeof(__u32) == kCpuid2EntriesAt, "kvm_cpuid2.entries");
static_assert(sizeof(kvm_msr_entry) == 16, "kvm_msr_entry");
static_assert(offsetof(kvm_msrs, pad) + sizeof(__u32) == kMsrsEntriesAt, "kvm_msrs.entries");
static_assert(offsetof(kvm_msr_list, nmsrs) + sizeof(__u32) == kMsrListIndicesAt, "kvm_msr_list.indices");
static_assert(sizeof(kvm_fpu) == 416, "kvm_fpu");
static_assert(offsetof(kvm_xsave, region) == 0 && sizeof(XsaveArea) == 4096, "kvm_xsave.region");
// The request numbers of vcpu-state.h: the header's own, with the kernel's struct sizes.
#define SAME_REQUEST(mine, header, size) \
  static_assert(_IOC_DIR(mine) == _IOC_DIR(header) && _IOC_TYPE(mine) == _IOC_TYPE(header) && \
                    _IOC_NR(mine) == _IOC_NR(header) && _IOC_SIZE(mine) == (size),             \
                #header)
SAME_REQUEST(kKvmGetSupportedCpuid, KVM_GET_SUPPORTED_CPUID, 8);
SAME_REQUEST(kKvmGetEmulatedCpuid, KVM_GET_EMULATED_CPUID, 8);
SAME_REQUEST(kKvmGetMsrIndexList, KVM_GET_MSR_INDEX_LIST, 4);
SAME_REQUEST(kKvmGetMsrFeatureIndexList, KVM_GET_MSR_FEATURE_INDEX_LIST, 4);
SAME_REQUEST(kKvmGetCpuid2, KVM_GET_CPUID2, 8);
SAME_REQUEST(kKvmSetCpuid2, KVM_SET_CPUID2, 8);
SAME_REQUEST(kKvmGetMsrs, KVM_GET_MSRS, 8);
SAME_REQUEST(kKvmSetMsrs, KVM_SET_MSRS, 8);
SAME_REQUEST(kKvmGetXsave, KVM_GET_XSAVE, 4096);
SAME_REQUEST(kKvmSetXsave, KVM_SET_XSAVE, 4096);
#undef SAME_REQUEST
static_assert(sizeof(kvm_xcrs) == 392, "kvm_xcrs");
static_assert(sizeof(kvm_xcr) == 16, "kvm_xcr");
static_assert(sizeof(kvm_lapic_state) == 1024, "kvm_lapic_state");
static_assert(sizeof(kvm_vcpu_events) == 64, "kvm_vcpu_events");
static_assert(offsetof(kvm_vcpu_events, exception_payload) == 56, "kvm_vcpu_events.exception_payload");
static_assert(sizeof(kvm_mp_state) == 4, "kvm_mp_state");
static_assert(sizeof(kvm_debugregs) == 128, "kvm_debugregs");
static_assert(sizeof(kvm_guest_debug) == 72, "kvm_guest_debug");
static_assert(sizeof(kvm_translation) == 24, "kvm_translation");

#define SET(obj, name, value) obj.Set(name, Napi::Number::New(env, static_cast<double>(value)))

Napi::Object VcpuStateLayoutObject(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);

  Napi::Object cpuid = Napi::Object::New(env);
  SET(cpuid, "size", sizeof(kvm_cpuid_entry2));
  SET(cpuid, "function", offsetof(kvm_cpuid_entry2, function));
  SET(cpuid, "index", offsetof(kvm_cpuid_entry2, index));
  SET(cpuid, "flags", offsetof(kvm_cpuid_entry2, flags));
  SET(cpuid, "eax", offsetof(kvm_cpuid_entry2, eax));
  SET(cpuid, "ebx", offsetof(kvm_cpuid_entry2, ebx));
  SET(cpuid, "ecx", offsetof(kvm_cpuid_entry2, ecx));
  SET(cpuid, "edx", offsetof(kvm_cpuid_entry2, edx));
  out.Set("cpuidEntry", cpuid);

  Napi::Object msr = Napi::Object::New(env);
  SET(msr, "size", sizeof(kvm_msr_entry));
  SET(msr, "index", offsetof(kvm_msr_entry, index));
  SET(msr, "data", offsetof(kvm_msr_entry, data));
  out.Set("msrEntry", msr);

  Napi::Object fpu = Napi::Object::New(env);
  SET(fpu, "size", sizeof(kvm_fpu));
  SET(fpu, "fpr", offsetof(kvm_fpu, fpr));
  SET(fpu, "fcw", offsetof(kvm_fpu, fcw));
  SET(fpu, "fsw", offsetof(kvm_fpu, fsw));
  SET(fpu, "ftwx", offsetof(kvm_fpu, ftwx));
  SET(fpu, "lastOpcode", offsetof(kvm_fpu, last_opcode));
  SET(fpu, "lastIp", offsetof(kvm_fpu, last_ip));
  SET(fpu, "lastDp", offsetof(kvm_fpu, last_dp));
  SET(fpu, "xmm", offsetof(kvm_fpu, xmm));
  SET(fpu, "mxcsr", offsetof(kvm_fpu, mxcsr));
  out.Set("fpu", fpu);

  Napi::Object xsave = Napi::Object::New(env);
  SET(xsave, "size", sizeof(XsaveArea));
  out.Set("xsave", xsave);

  Napi::Object xcrs = Napi::Object::New(env);
  SET(xcrs, "size", sizeof(kvm_xcrs));
  SET(xcrs, "nrXcrs", offsetof(kvm_xcrs, nr_xcrs));
  SET(xcrs, "flags", offsetof(kvm_xcrs, flags));
  SET(xcrs, "xcrs", offsetof(kvm_xcrs, xcrs));
  SET(xcrs, "max", KVM_MAX_XCRS);
  SET(xcrs, "entrySize", sizeof(kvm_xcr));
  SET(xcrs, "xcr", offsetof(kvm_xcr, xcr));
  SET(xcrs, "value", offsetof(kvm_xcr, value));
  out.Set("xcrs", xcrs);

  Napi::Object lapic = Napi::Object::New(env);
  SET(lapic, "size", sizeof(kvm_lapic_state));
  out.Set("lapic", lapic);

  Napi::Object ev = Napi::Object::New(env);
  SET(ev, "size", sizeof(kvm_vcpu_events));
  SET(ev, "exceptionInjected", offsetof(kvm_vcpu_events, exception.injected));
  SET(ev, "exceptionNr", offsetof(kvm_vcpu_events, exception.nr));
  SET(ev, "exceptionHasErrorCode", offsetof(kvm_vcpu_events, exception.has_error_code));
  SET(ev, "exceptionPending", offsetof(kvm_vcpu_events, exception.pending));
  SET(ev, "exceptionErrorCode", offsetof(kvm_vcpu_events, exception.error_code));
  SET(ev, "interruptInjected", offsetof(kvm_vcpu_events, interrupt.injected));
  SET(ev, "interruptNr", offsetof(kvm_vcpu_events, interrupt.nr));
  SET(ev, "interruptSoft", offsetof(kvm_vcpu_events, interrupt.soft));
  SET(ev, "interruptShadow", offsetof(kvm_vcpu_events, interrupt.shadow));
  SET(ev, "nmiInjected", offsetof(kvm_vcpu_events, nmi.injected));
  SET(ev, "nmiPending", offsetof(kvm_vcpu_events, nmi.pending));
  SET(ev, "nmiMasked", offsetof(kvm_vcpu_events, nmi.masked));
  SET(ev, "sipiVector", offsetof(kvm_vcpu_events, sipi_vector));
  SET(ev, "flags", offsetof(kvm_vcpu_events, flags));
  SET(ev, "smiSmm", offsetof(kvm_vcpu_events, smi.smm));
  SET(ev, "smiPending", offsetof(kvm_vcpu_events, smi.pending));
  SET(ev, "smiSmmInsideNmi", offsetof(kvm_vcpu_events, smi.smm_inside_nmi));
  SET(ev, "smiLatchedInit", offsetof(kvm_vcpu_events, smi.latched_init));
  SET(ev, "tripleFaultPending", offsetof(kvm_vcpu_events, triple_fault.pending));
  SET(ev, "exceptionHasPayload", offsetof(kvm_vcpu_events, exception_has_payload));
  SET(ev, "exceptionPayload", offsetof(kvm_vcpu_events, exception_payload));
  out.Set("vcpuEvents", ev);

  Napi::Object dbg = Napi::Object::New(env);
  SET(dbg, "size", sizeof(kvm_debugregs));
  SET(dbg, "db", offsetof(kvm_debugregs, db));
  SET(dbg, "dr6", offsetof(kvm_debugregs, dr6));
  SET(dbg, "dr7", offsetof(kvm_debugregs, dr7));
  SET(dbg, "flags", offsetof(kvm_debugregs, flags));
  out.Set("debugRegs", dbg);

  Napi::Object gdb = Napi::Object::New(env);
  SET(gdb, "size", sizeof(kvm_guest_debug));
  SET(gdb, "control", offsetof(kvm_guest_debug, control));
  SET(gdb, "debugreg", offsetof(kvm_guest_debug, arch.debugreg));
  out.Set("guestDebug", gdb);

  Napi::Object tr = Napi::Object::New(env);
  SET(tr, "size", sizeof(kvm_translation));
  SET(tr, "linearAddress", offsetof(kvm_translation, linear_address));
  SET(tr, "physicalAddress", offsetof(kvm_translation, physical_address));
  SET(tr, "valid", offsetof(kvm_translation, valid));
  SET(tr, "writeable", offsetof(kvm_translation, writeable));
  SET(tr, "usermode", offsetof(kvm_translation, usermode));
  out.Set("translation", tr);

  Napi::Object limits = Napi::Object::New(env);
  SET(limits, "cpuidEntries", kMaxCpuidEntries);
  SET(limits, "msrEntries", kMaxMsrEntries);
  out.Set("limits", limits);
  return out;
}

}  // namespace memtopo
