// Struct offsets and constants from <linux/kvm.h>, exported so that TypeScript
// decodes kvm_run, kvm_regs and kvm_sregs without hard-coding a layout. The
// static_asserts pin the x86-64 ABI the TypeScript tests were written against:
// a header that disagrees fails the build instead of mis-decoding at run time.
#include <linux/kvm.h>

#include <cstddef>

#include "common.h"
#include "irq.h"
#include "vcpu-state.h"

namespace memtopo {

static_assert(sizeof(void*) == 8, "kvm-native supports 64-bit hosts only");
static_assert(offsetof(kvm_run, immediate_exit) == 1, "kvm_run.immediate_exit");
static_assert(offsetof(kvm_run, exit_reason) == 8, "kvm_run.exit_reason");
static_assert(offsetof(kvm_run, io.direction) == 32, "kvm_run.io.direction");
static_assert(offsetof(kvm_run, io.size) == 33, "kvm_run.io.size");
static_assert(offsetof(kvm_run, io.port) == 34, "kvm_run.io.port");
static_assert(offsetof(kvm_run, io.count) == 36, "kvm_run.io.count");
static_assert(offsetof(kvm_run, io.data_offset) == 40, "kvm_run.io.data_offset");
static_assert(offsetof(kvm_run, mmio.phys_addr) == 32, "kvm_run.mmio.phys_addr");
static_assert(offsetof(kvm_run, mmio.data) == 40, "kvm_run.mmio.data");
static_assert(offsetof(kvm_run, mmio.len) == 48, "kvm_run.mmio.len");
static_assert(offsetof(kvm_run, mmio.is_write) == 52, "kvm_run.mmio.is_write");
static_assert(offsetof(kvm_run, request_interrupt_window) == 0, "kvm_run.request_interrupt_window");
static_assert(offsetof(kvm_run, ready_for_interrupt_injection) == 12, "kvm_run.ready_for_interrupt_injection");
static_assert(offsetof(kvm_run, if_flag) == 13, "kvm_run.if_flag");
static_assert(offsetof(kvm_run, system_event.type) == 32, "kvm_run.system_event.type");
static_assert(offsetof(kvm_run, system_event.ndata) == 36, "kvm_run.system_event.ndata");
static_assert(offsetof(kvm_run, system_event.data) == 40, "kvm_run.system_event.data");
static_assert(offsetof(kvm_run, debug.arch.exception) == 32, "kvm_run.debug.arch.exception");
static_assert(offsetof(kvm_run, debug.arch.pc) == 40, "kvm_run.debug.arch.pc");
static_assert(offsetof(kvm_run, debug.arch.dr6) == 48, "kvm_run.debug.arch.dr6");
static_assert(offsetof(kvm_run, debug.arch.dr7) == 56, "kvm_run.debug.arch.dr7");
static_assert(offsetof(kvm_run, msr.error) == 32, "kvm_run.msr.error");
static_assert(offsetof(kvm_run, msr.reason) == 40, "kvm_run.msr.reason");
static_assert(offsetof(kvm_run, msr.index) == 44, "kvm_run.msr.index");
static_assert(offsetof(kvm_run, msr.data) == 48, "kvm_run.msr.data");
static_assert(sizeof(kvm_regs) == 144, "kvm_regs");
static_assert(sizeof(kvm_segment) == 24, "kvm_segment");
static_assert(sizeof(kvm_dtable) == 16, "kvm_dtable");
static_assert(sizeof(kvm_sregs) == 312, "kvm_sregs");
static_assert(sizeof(kvm_userspace_memory_region) == 32, "kvm_userspace_memory_region");
static_assert(sizeof(kvm_ioeventfd) == 64, "kvm_ioeventfd");
static_assert(sizeof(kvm_coalesced_mmio) == 24, "kvm_coalesced_mmio");

#define SET(obj, name, value) obj.Set(name, Napi::Number::New(env, static_cast<double>(value)))

static Napi::Object Fields(Napi::Env env, const char* const* names, const size_t* offsets, size_t n) {
  Napi::Object o = Napi::Object::New(env);
  for (size_t i = 0; i < n; i++) SET(o, names[i], offsets[i]);
  return o;
}

Napi::Object LayoutObject(Napi::Env env) {
  Napi::Object layout = Napi::Object::New(env);

  Napi::Object run = Napi::Object::New(env);
  SET(run, "immediateExit", offsetof(kvm_run, immediate_exit));
  SET(run, "exitReason", offsetof(kvm_run, exit_reason));
  SET(run, "ioDirection", offsetof(kvm_run, io.direction));
  SET(run, "ioSize", offsetof(kvm_run, io.size));
  SET(run, "ioPort", offsetof(kvm_run, io.port));
  SET(run, "ioCount", offsetof(kvm_run, io.count));
  SET(run, "ioDataOffset", offsetof(kvm_run, io.data_offset));
  SET(run, "mmioPhysAddr", offsetof(kvm_run, mmio.phys_addr));
  SET(run, "mmioData", offsetof(kvm_run, mmio.data));
  SET(run, "mmioLen", offsetof(kvm_run, mmio.len));
  SET(run, "mmioIsWrite", offsetof(kvm_run, mmio.is_write));
  SET(run, "hwExitReason", offsetof(kvm_run, hw.hardware_exit_reason));
  SET(run, "failEntryReason", offsetof(kvm_run, fail_entry.hardware_entry_failure_reason));
  SET(run, "failEntryCpu", offsetof(kvm_run, fail_entry.cpu));
  SET(run, "internalSuberror", offsetof(kvm_run, internal.suberror));
  SET(run, "internalNdata", offsetof(kvm_run, internal.ndata));
  SET(run, "internalData", offsetof(kvm_run, internal.data));
  SET(run, "internalDataMax", sizeof(((kvm_run*)nullptr)->internal.data) / sizeof(__u64));
  SET(run, "requestInterruptWindow", offsetof(kvm_run, request_interrupt_window));
  SET(run, "readyForInterruptInjection", offsetof(kvm_run, ready_for_interrupt_injection));
  SET(run, "ifFlag", offsetof(kvm_run, if_flag));
  SET(run, "systemEventType", offsetof(kvm_run, system_event.type));
  SET(run, "systemEventNdata", offsetof(kvm_run, system_event.ndata));
  SET(run, "systemEventData", offsetof(kvm_run, system_event.data));
  SET(run, "systemEventDataMax", sizeof(((kvm_run*)nullptr)->system_event.data) / sizeof(__u64));
  SET(run, "debugException", offsetof(kvm_run, debug.arch.exception));
  SET(run, "debugPc", offsetof(kvm_run, debug.arch.pc));
  SET(run, "debugDr6", offsetof(kvm_run, debug.arch.dr6));
  SET(run, "debugDr7", offsetof(kvm_run, debug.arch.dr7));
  SET(run, "msrError", offsetof(kvm_run, msr.error));
  SET(run, "msrReason", offsetof(kvm_run, msr.reason));
  SET(run, "msrIndex", offsetof(kvm_run, msr.index));
  SET(run, "msrData", offsetof(kvm_run, msr.data));
  layout.Set("run", run);

  static const char* const kRegs[] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp", "r8",
                                      "r9",  "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags"};
  static const size_t kRegOffsets[] = {
      offsetof(kvm_regs, rax), offsetof(kvm_regs, rbx), offsetof(kvm_regs, rcx), offsetof(kvm_regs, rdx),
      offsetof(kvm_regs, rsi), offsetof(kvm_regs, rdi), offsetof(kvm_regs, rsp), offsetof(kvm_regs, rbp),
      offsetof(kvm_regs, r8),  offsetof(kvm_regs, r9),  offsetof(kvm_regs, r10), offsetof(kvm_regs, r11),
      offsetof(kvm_regs, r12), offsetof(kvm_regs, r13), offsetof(kvm_regs, r14), offsetof(kvm_regs, r15),
      offsetof(kvm_regs, rip), offsetof(kvm_regs, rflags)};
  Napi::Object regs = Fields(env, kRegs, kRegOffsets, 18);
  SET(regs, "size", sizeof(kvm_regs));
  layout.Set("regs", regs);

  static const char* const kSeg[] = {"base", "limit", "selector", "type", "present", "dpl",
                                     "db",   "s",     "l",        "g",    "avl",     "unusable"};
  static const size_t kSegOffsets[] = {
      offsetof(kvm_segment, base), offsetof(kvm_segment, limit), offsetof(kvm_segment, selector),
      offsetof(kvm_segment, type), offsetof(kvm_segment, present), offsetof(kvm_segment, dpl),
      offsetof(kvm_segment, db),   offsetof(kvm_segment, s),       offsetof(kvm_segment, l),
      offsetof(kvm_segment, g),    offsetof(kvm_segment, avl),     offsetof(kvm_segment, unusable)};
  Napi::Object segment = Fields(env, kSeg, kSegOffsets, 12);
  SET(segment, "size", sizeof(kvm_segment));
  layout.Set("segment", segment);

  Napi::Object dtable = Napi::Object::New(env);
  SET(dtable, "base", offsetof(kvm_dtable, base));
  SET(dtable, "limit", offsetof(kvm_dtable, limit));
  layout.Set("dtable", dtable);

  static const char* const kSregs[] = {"cs",  "ds",  "es",  "fs",  "gs",  "ss",  "tr",   "ldt",      "gdt",
                                       "idt", "cr0", "cr2", "cr3", "cr4", "cr8", "efer", "apicBase", "interruptBitmap"};
  static const size_t kSregOffsets[] = {
      offsetof(kvm_sregs, cs),  offsetof(kvm_sregs, ds),  offsetof(kvm_sregs, es),   offsetof(kvm_sregs, fs),
      offsetof(kvm_sregs, gs),  offsetof(kvm_sregs, ss),  offsetof(kvm_sregs, tr),   offsetof(kvm_sregs, ldt),
      offsetof(kvm_sregs, gdt), offsetof(kvm_sregs, idt), offsetof(kvm_sregs, cr0),  offsetof(kvm_sregs, cr2),
      offsetof(kvm_sregs, cr3), offsetof(kvm_sregs, cr4), offsetof(kvm_sregs, cr8),  offsetof(kvm_sregs, efer),
      offsetof(kvm_sregs, apic_base), offsetof(kvm_sregs, interrupt_bitmap)};
  Napi::Object sregs = Fields(env, kSregs, kSregOffsets, 18);
  SET(sregs, "size", sizeof(kvm_sregs));
  layout.Set("sregs", sregs);

  // The coalesced MMIO ring: one page of the vCPU mapping, shared by the VM's vCPUs.
  Napi::Object ring = Napi::Object::New(env);
  SET(ring, "first", offsetof(kvm_coalesced_mmio_ring, first));
  SET(ring, "last", offsetof(kvm_coalesced_mmio_ring, last));
  // Not offsetof: the header's flexible array sits behind an empty struct, which is 0 bytes in
  // the kernel's C and 1 byte in C++, so C++ would put the entries at 16. The kernel's are at 8.
  static_assert(offsetof(kvm_coalesced_mmio_ring, last) == 4, "kvm_coalesced_mmio_ring.last");
  SET(ring, "entries", 2 * sizeof(__u32));
  SET(ring, "entrySize", sizeof(kvm_coalesced_mmio));
  SET(ring, "physAddr", offsetof(kvm_coalesced_mmio, phys_addr));
  SET(ring, "len", offsetof(kvm_coalesced_mmio, len));
  SET(ring, "pio", offsetof(kvm_coalesced_mmio, pio));
  SET(ring, "data", offsetof(kvm_coalesced_mmio, data));
  SET(ring, "dataMax", sizeof(((kvm_coalesced_mmio*)nullptr)->data));
  layout.Set("coalescedRing", ring);

  Napi::Object exits = Napi::Object::New(env);
  SET(exits, "UNKNOWN", KVM_EXIT_UNKNOWN);
  SET(exits, "IO", KVM_EXIT_IO);
  SET(exits, "HLT", KVM_EXIT_HLT);
  SET(exits, "MMIO", KVM_EXIT_MMIO);
  SET(exits, "SHUTDOWN", KVM_EXIT_SHUTDOWN);
  SET(exits, "FAIL_ENTRY", KVM_EXIT_FAIL_ENTRY);
  SET(exits, "INTR", KVM_EXIT_INTR);
  SET(exits, "INTERNAL_ERROR", KVM_EXIT_INTERNAL_ERROR);
  SET(exits, "SYSTEM_EVENT", KVM_EXIT_SYSTEM_EVENT);
  SET(exits, "IRQ_WINDOW_OPEN", KVM_EXIT_IRQ_WINDOW_OPEN);
  SET(exits, "DEBUG", KVM_EXIT_DEBUG);
  SET(exits, "X86_RDMSR", KVM_EXIT_X86_RDMSR);
  SET(exits, "X86_WRMSR", KVM_EXIT_X86_WRMSR);
  SET(exits, "DIRTY_RING_FULL", KVM_EXIT_DIRTY_RING_FULL);
  SET(exits, "SYSTEM_EVENT_SHUTDOWN", KVM_SYSTEM_EVENT_SHUTDOWN);
  SET(exits, "SYSTEM_EVENT_RESET", KVM_SYSTEM_EVENT_RESET);
  SET(exits, "SYSTEM_EVENT_CRASH", KVM_SYSTEM_EVENT_CRASH);
  SET(exits, "SYSTEM_EVENT_WAKEUP", KVM_SYSTEM_EVENT_WAKEUP);
  SET(exits, "SYSTEM_EVENT_SUSPEND", KVM_SYSTEM_EVENT_SUSPEND);
  SET(exits, "SYSTEM_EVENT_SEV_TERM", KVM_SYSTEM_EVENT_SEV_TERM);
  SET(exits, "MSR_EXIT_REASON_INVAL", KVM_MSR_EXIT_REASON_INVAL);
  SET(exits, "MSR_EXIT_REASON_UNKNOWN", KVM_MSR_EXIT_REASON_UNKNOWN);
  SET(exits, "MSR_EXIT_REASON_FILTER", KVM_MSR_EXIT_REASON_FILTER);
  SET(exits, "IO_IN", KVM_EXIT_IO_IN);
  SET(exits, "IO_OUT", KVM_EXIT_IO_OUT);
  layout.Set("exits", exits);

  layout.Set("irq", IrqLayoutObject(env));
  layout.Set("vcpuState", VcpuStateLayoutObject(env));
  SET(layout, "apiVersion", KVM_API_VERSION);
  return layout;
}

}  // namespace memtopo
