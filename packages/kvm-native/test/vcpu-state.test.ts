import { KVM_VCPUEVENT_VALID, KVM_X86_SHADOW_INT, type KvmError } from "@memtopo/kvm";
import { describe, expect, it } from "vitest";
import { enterRealMode, NativeKvm } from "../src/index.js";
import { CODE_AT, kvm, machine } from "./helpers.js";

// Typed vCPU state through the kernel (runs where /dev/kvm works; in the nested-KVM
// harness elsewhere). Each test sets state through one ioctl and asserts what the kernel
// reports back with the matching get, not what a guest would see: this host's kvm_pvm
// does not hide CPUID bits from the guest.

const IA32_SYSENTER_CS = 0x174;
const IA32_SYSENTER_ESP = 0x175;
const IA32_SYSENTER_EIP = 0x176;
const MSR_TSC_AUX = 0xc0000103;
const UD_VECTOR = 6;

function withVm<T>(body: (vm: NativeKvm) => T): T {
  const vm = NativeKvm.open();
  try {
    return body(vm);
  } finally {
    vm.close();
  }
}

function errorOf(fn: () => unknown): KvmError {
  try {
    fn();
  } catch (error) {
    return error as KvmError;
  }
  throw new Error("expected a throw");
}

describe.skipIf(!kvm.ok)("vCPU state on /dev/kvm", () => {
  it("KVM_GET_SUPPORTED_CPUID lists leaf 0 (vendor) and leaf 1; emulated CPUID reads too", () => {
    withVm((vm) => {
      const supported = vm.getSupportedCpuid();
      expect(supported.length).toBeGreaterThan(5);
      const leaf0 = supported.find((e) => e.function === 0);
      expect(leaf0).toBeDefined();
      expect(leaf0!.eax).toBeGreaterThanOrEqual(1);
      expect(supported.some((e) => e.function === 1)).toBe(true);
      expect(Array.isArray(vm.getEmulatedCpuid())).toBe(true);
    });
  });

  it("KVM_SET_CPUID2 then KVM_GET_CPUID2 gives back the table (a cleared feature bit stays cleared)", () => {
    withVm((vm) => {
      const vcpu = vm.createVcpu(0);
      expect(vcpu.getCpuid2()).toEqual([]);
      const table = vm.getSupportedCpuid();
      const leaf1 = table.find((e) => e.function === 1)!;
      leaf1.ecx &= ~1; // SSE3: a bit KVM never adjusts at run time
      vcpu.setCpuid2(table);
      const back = vcpu.getCpuid2();
      expect(back.map((e) => [e.function, e.index])).toEqual(table.map((e) => [e.function, e.index]));
      expect(back.find((e) => e.function === 1)!.ecx & 1).toBe(0);
      expect(back.find((e) => e.function === 0)).toEqual(table.find((e) => e.function === 0));
      // What the kernel kept is stable: setting it again reads back the same.
      vcpu.setCpuid2(back);
      expect(vcpu.getCpuid2()).toEqual(back);
    });
  });

  it("MSRs: the index list names SYSENTER_CS/ESP/EIP; written values read back; a bad MSR stops KVM_GET_MSRS", () => {
    withVm((vm) => {
      const list = vm.getMsrIndexList();
      expect(list).toContain(IA32_SYSENTER_CS);
      expect(Array.isArray(vm.getMsrFeatureIndexList())).toBe(true);
      const vcpu = vm.createVcpu(0);
      const table = vm.getSupportedCpuid();
      vcpu.setCpuid2(table);
      const wanted = [
        { index: IA32_SYSENTER_CS, data: 0x10n },
        // 32-bit values: KVM on AMD keeps only the low half of SYSENTER_ESP/EIP for an AMD guest.
        { index: IA32_SYSENTER_ESP, data: 0x8123_5000n },
        { index: IA32_SYSENTER_EIP, data: 0x8000_1000n },
      ];
      const ext = table.find((e) => e.function === 0x80000001);
      const rdtscp = ext !== undefined && (ext.edx & (1 << 27)) !== 0 && list.includes(MSR_TSC_AUX);
      if (rdtscp) wanted.push({ index: MSR_TSC_AUX, data: 7n });
      expect(vcpu.setMsrs(wanted)).toBe(wanted.length);
      expect(vcpu.getMsrs(wanted.map((m) => m.index))).toEqual(wanted);
      // The kernel stops at the first MSR it refuses and says how far it got.
      expect(vcpu.getMsrs([IA32_SYSENTER_CS, 0xdead_beef, IA32_SYSENTER_EIP])).toEqual([wanted[0]]);
      expect(vcpu.setMsrs([])).toBe(0);
    });
  });

  it("KVM_SET_FPU then KVM_GET_FPU: control word and an XMM register read back (MXCSR goes through XSAVE)", () => {
    withVm((vm) => {
      const vcpu = vm.createVcpu(0);
      const fpu = vcpu.getFpu();
      expect(fpu.fpr).toHaveLength(8);
      expect(fpu.fcw).toBe(0x37f); // FNINIT's control word: the reset state
      fpu.fcw = 0x27f;
      fpu.xmm[3] = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210n;
      vcpu.setFpu(fpu);
      const back = vcpu.getFpu();
      expect(back.fcw).toBe(0x27f);
      expect(back.xmm[3]).toBe(fpu.xmm[3]);
      // KVM's KVM_GET_FPU/KVM_SET_FPU do not carry MXCSR (the kernel reports 0); XSAVE does,
      // when XSTATE_BV names SSE or AVX (the SDM's rule for restoring MXCSR).
      const xsave = vcpu.getXsave();
      expect(xsave.mxcsr).toBe(0x1f80);
      xsave.mxcsr = 0x1fa0;
      xsave.xstateBv |= 2n;
      vcpu.setXsave(xsave);
      expect(vcpu.getXsave().mxcsr).toBe(0x1fa0);
    });
  });

  it("XSAVE and XCRs: an XMM register through the XSAVE area, XCR0 = x87|SSE through KVM_SET_XCRS", () => {
    withVm((vm) => {
      const vcpu = vm.createVcpu(0);
      vcpu.setCpuid2(vm.getSupportedCpuid());
      const xsave = vcpu.getXsave();
      expect(xsave.extended).toHaveLength(4096 - 576);
      xsave.xmm[1] = (1n << 127n) | 0x55n;
      xsave.xstateBv |= 2n; // SSE state present
      vcpu.setXsave(xsave);
      expect(vcpu.getXsave().xmm[1]).toBe(xsave.xmm[1]);

      const xcrs = vcpu.getXcrs();
      const xcr0 = xcrs.xcrs.find((x) => x.xcr === 0);
      expect(xcr0).toBeDefined();
      expect(xcr0!.value & 1n).toBe(1n); // x87 is always on
      vcpu.setXcrs({ flags: 0, xcrs: [{ xcr: 0, value: 3n }] });
      expect(vcpu.getXcrs().xcrs.find((x) => x.xcr === 0)?.value).toBe(3n);
      // XCR0 without x87 is invalid (SDM: bit 0 must be 1): the kernel refuses it.
      expect(errorOf(() => vcpu.setXcrs({ flags: 0, xcrs: [{ xcr: 0, value: 2n }] })).code).toBe("EINVAL");
      expect(vcpu.getXcrs().xcrs.find((x) => x.xcr === 0)?.value).toBe(3n);
    });
  });

  it("LAPIC (in-kernel irqchip): APIC ID is the vCPU id in bits 31:24; TPR and LVT entries read back", () => {
    withVm((vm) => {
      vm.createIrqchip();
      const vcpu = vm.createVcpu(2);
      const lapic = vcpu.getLapic();
      expect(lapic.id >>> 24).toBe(2);
      expect(lapic.isr).toHaveLength(8);
      lapic.tpr = 0x20;
      lapic.svr = 0x1ff; // APIC software-enabled, spurious vector 0xff
      lapic.lvt.lint0 = 0x700; // ExtINT
      lapic.lvt.lint1 = 0x400; // NMI
      lapic.lvt.timer = 0x10030; // masked, vector 0x30
      vcpu.setLapic(lapic);
      const back = vcpu.getLapic();
      expect(back.tpr).toBe(0x20);
      expect(back.svr).toBe(0x1ff);
      expect(back.lvt.lint0).toBe(0x700);
      expect(back.lvt.lint1).toBe(0x400);
      expect(back.lvt.timer).toBe(0x10030);
    });
  });

  it("KVM_GET_LAPIC without an in-kernel irqchip is the kernel's EINVAL", () => {
    withVm((vm) => {
      const vcpu = vm.createVcpu(0);
      expect(errorOf(() => vcpu.getLapic()).code).toBe("EINVAL");
    });
  });

  it("MP state: a BSP is runnable; halted round-trips with an in-kernel LAPIC and is EINVAL without", () => {
    withVm((vm) => {
      vm.createIrqchip();
      const vcpu = vm.createVcpu(0);
      expect(vcpu.getMpState()).toBe("runnable");
      vcpu.setMpState("halted");
      expect(vcpu.getMpState()).toBe("halted");
      vcpu.setMpState("runnable");
      expect(vcpu.getMpState()).toBe("runnable");
    });
    withVm((vm) => {
      const vcpu = vm.createVcpu(0);
      expect(errorOf(() => vcpu.setMpState("halted")).code).toBe("EINVAL");
      expect(vcpu.getMpState()).toBe("runnable");
    });
  });

  it("debug registers: DR0-3, DR6, DR7 set then read back", () => {
    withVm((vm) => {
      const vcpu = vm.createVcpu(0);
      const regs = vcpu.getDebugRegs();
      expect(regs.dr6 & 0xffff0ff0n).toBe(0xffff0ff0n); // DR6's reserved-as-1 bits
      const set = { db: [0x1000n, 0x2000n, 0x3000n, 0x4000n], dr6: 0xffff0ff0n, dr7: 0x401n, flags: 0n };
      vcpu.setDebugRegs(set);
      expect(vcpu.getDebugRegs()).toEqual(set);
    });
  });

  it("vCPU events: NMI masked and an STI shadow round-trip; a SIPI vector is taken but never reported", () => {
    withVm((vm) => {
      vm.createIrqchip();
      const vcpu = vm.createVcpu(0);
      const events = vcpu.getVcpuEvents();
      expect(events.exception.injected).toBe(0);
      events.nmi.masked = 1;
      events.interrupt.shadow = KVM_X86_SHADOW_INT.STI;
      events.sipiVector = 0x12;
      events.flags = KVM_VCPUEVENT_VALID.SHADOW | KVM_VCPUEVENT_VALID.SIPI_VECTOR;
      vcpu.setVcpuEvents(events);
      const back = vcpu.getVcpuEvents();
      expect(back.nmi.masked).toBe(1);
      // SVM keeps one shadow bit and reports it as MOV SS | STI; VMX keeps which one it was.
      expect(back.interrupt.shadow & KVM_X86_SHADOW_INT.STI).toBe(KVM_X86_SHADOW_INT.STI);
      // The kernel keeps the SIPI vector in its LAPIC and reports 0 ("never valid" for user space).
      expect(back.sipiVector).toBe(0);
    });
  });

  it("an exception injected through KVM_SET_VCPU_EVENTS runs the real-mode guest's IVT handler first", () => {
    const m = machine("inject");
    try {
      const ram = m.lowRam.bytes();
      const handler = CODE_AT + 0x10;
      new DataView(ram.buffer, ram.byteOffset).setUint16(UD_VECTOR * 4, handler, true);
      new DataView(ram.buffer, ram.byteOffset).setUint16(UD_VECTOR * 4 + 2, 0, true);
      enterRealMode(m.vcpu, CODE_AT, 0x3000);
      const events = m.vcpu.getVcpuEvents();
      events.exception = { ...events.exception, injected: 1, nr: UD_VECTOR, hasErrorCode: 0, errorCode: 0 };
      events.flags = 0;
      m.vcpu.setVcpuEvents(events);
      expect(m.vcpu.run().reason).toBe("hlt");
      expect(ram[0x2000]).toBe(0x5a); // the handler ran
      expect(ram[0x2001]).toBe(0); // before any instruction of the main path
      const frame = new DataView(ram.buffer, ram.byteOffset + 0x3000 - 6, 6);
      expect(frame.getUint16(0, true)).toBe(CODE_AT); // return IP: where the exception was delivered
      expect(frame.getUint16(2, true)).toBe(0); // CS
      expect(frame.getUint16(4, true) & 2).toBe(2); // FLAGS (bit 1 reads as 1)
      expect(m.vcpu.getRegs().rsp).toBe(0x3000n - 6n);
      expect(m.vcpu.getVcpuEvents().exception.injected).toBe(0);
    } finally {
      m.vm.close();
    }
  });

  it("without the injection the same guest takes its main path (the test above can fail)", () => {
    const m = machine("inject");
    try {
      const ram = m.lowRam.bytes();
      new DataView(ram.buffer, ram.byteOffset).setUint16(UD_VECTOR * 4, CODE_AT + 0x10, true);
      expect(m.vcpu.run().reason).toBe("hlt");
      expect(ram[0x2000]).toBe(0);
      expect(ram[0x2001]).toBe(0x11);
    } finally {
      m.vm.close();
    }
  });

  // KVM_TRANSLATE walks the tables as a supervisor read and always reports writeable=1,
  // usermode=0 (the kernel fills those two in as constants), so a user read-only page says so too.
  it("KVM_TRANSLATE: real mode is identity; 32-bit paging with a 4 MiB page maps, an absent PDE is invalid", () => {
    const m = machine("inject");
    try {
      const real = m.vcpu.translate(0x12345n);
      expect(real).toMatchObject({ linearAddress: 0x12345n, physicalAddress: 0x12345n, valid: true });

      const ram = m.lowRam.bytes();
      const pd = new DataView(ram.buffer, ram.byteOffset + 0x3000, 0x1000);
      const PRESENT = 1;
      const WRITE = 2;
      const USER = 4;
      const PAGE_4M = 0x80;
      pd.setUint32(1 * 4, 0x0000_0000 | PAGE_4M | WRITE | PRESENT, true); // 4 MiB at 4 MiB -> 0
      pd.setUint32(3 * 4, 0x0000_0000 | PAGE_4M | USER | PRESENT, true); // 12 MiB -> 0, user, read-only
      const sregs = m.vcpu.getSregs();
      sregs.cr3 = 0x3000n;
      sregs.cr4 |= 0x10n; // PSE
      sregs.cr0 |= 0x8000_0001n; // PG | PE
      m.vcpu.setSregs(sregs);

      expect(m.vcpu.translate(0x40_1234n)).toEqual({
        linearAddress: 0x40_1234n,
        physicalAddress: 0x1234n,
        valid: true,
        writeable: true,
        usermode: false,
      });
      expect(m.vcpu.translate(0xc0_2000n)).toMatchObject({
        physicalAddress: 0x2000n,
        valid: true,
        writeable: true,
        usermode: false,
      });
      expect(m.vcpu.translate(0x80_0000n).valid).toBe(false);
    } finally {
      m.vm.close();
    }
  });

  it("KVM_SET_GUEST_DEBUG with single-step makes the next run a debug exit", () => {
    const m = machine("inject");
    try {
      m.vcpu.setGuestDebug({ control: 0x1 | 0x2, debugreg: new Array(8).fill(0n) });
      const exit = m.vcpu.run();
      expect(exit.reason).toBe("debug");
      m.vcpu.setGuestDebug({ control: 0, debugreg: new Array(8).fill(0n) });
      expect(m.vcpu.run().reason).toBe("hlt");
      expect(m.lowRam.bytes()[0x2001]).toBe(0x11);
    } finally {
      m.vm.close();
    }
  });

  it("every state call on a closed vCPU is EBADF", () => {
    withVm((vm) => {
      const vcpu = vm.createVcpu(0);
      const fpu = vcpu.getFpu();
      vcpu.close();
      expect(errorOf(() => vcpu.getFpu()).code).toBe("EBADF");
      expect(errorOf(() => vcpu.setFpu(fpu)).code).toBe("EBADF");
      expect(errorOf(() => vcpu.getCpuid2()).code).toBe("EBADF");
      expect(errorOf(() => vcpu.getMsrs([IA32_SYSENTER_CS])).code).toBe("EBADF");
      expect(errorOf(() => vcpu.translate(0n)).code).toBe("EBADF");
      expect(errorOf(() => vcpu.getMpState()).code).toBe("EBADF");
    });
  });
});
