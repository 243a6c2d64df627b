import type { CpuidEntry, Regs } from "../vcpu-state.js";
import type { ConformanceTestApi } from "./types.js";
import { defineVmCase, type VmCaseBody } from "./vm-harness.js";
import type { KvmVmFactory } from "./vm-types.js";

const MSR_SYSENTER_CS = 0x174;
const MSR_STAR = 0xc000_0081;
const MSR_LSTAR = 0xc000_0082;
/** An MSR number no x86 CPU has (KVM's `ignore_msrs` is off by default, so it is refused). */
const MSR_NONE = 0x4b56_4dff;

function ascii(text: string): number {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = v * 256 + text.charCodeAt(i);
  return v;
}

/** A two-entry table: vendor "MemtopoTest!" with basic leaf 1 at most, and the extended leaf range up to 0x80000001. */
const SMALL_CPUID: CpuidEntry[] = [
  { function: 0, index: 0, flags: 0, eax: 1, ebx: ascii("Memt"), edx: ascii("opoT"), ecx: ascii("est!") },
  { function: 0x8000_0000, index: 0, flags: 0, eax: 0x8000_0001, ebx: 0, ecx: 0, edx: 0 },
];

/** The vCPU state ioctls (arch/x86/kvm/x86.c, cpuid.c, lapic.c): round-trips and the kernel's refusals. */
export function vcpuStateCases(api: ConformanceTestApi, factory: KvmVmFactory): void {
  const it = (name: string, body: VmCaseBody) => defineVmCase(api, factory, name, body);

  it("KVM_CREATE_VCPU: a new vCPU is at the reset vector (CS F000, base FFFF0000, IP FFF0, RFLAGS 2, CR0 60000010)", ({
    env,
    expect,
  }) => {
    const vcpu = env.createVcpu(0);
    const regs = vcpu.getRegs();
    const sregs = vcpu.getSregs();
    expect(regs.rip).toBe(0xfff0n);
    expect(regs.rflags).toBe(2n);
    expect(sregs.cs.selector).toBe(0xf000);
    expect(sregs.cs.base).toBe(0xffff_0000n);
    expect(sregs.cr0).toBe(0x6000_0010n);
  });

  it("KVM_SET_REGS then KVM_GET_REGS gives every register back", ({ env, expect }) => {
    const vcpu = env.createVcpu(0);
    const regs = vcpu.getRegs();
    const names = Object.keys(regs) as (keyof Regs)[];
    names.forEach((name, i) => {
      regs[name] = 0x1111_0000_0000_0000n * BigInt(i % 15) + BigInt(i + 1);
    });
    regs.rflags = 0x246n;
    vcpu.setRegs(regs);
    expect(vcpu.getRegs()).toEqual(regs);
  });

  it("KVM_SET_SREGS then KVM_GET_SREGS gives real-mode segment selectors and bases back", ({ env, expect }) => {
    const vcpu = env.createVcpu(0);
    const sregs = vcpu.getSregs();
    sregs.ds = { ...sregs.ds, selector: 0x1234, base: 0x12340n };
    sregs.es = { ...sregs.es, selector: 0xb800, base: 0xb8000n };
    sregs.fs = { ...sregs.fs, selector: 0, base: 0xd000_0000n };
    vcpu.setSregs(sregs);
    const back = vcpu.getSregs();
    expect([back.ds.selector, back.ds.base, back.es.selector, back.es.base, back.fs.base]).toEqual([
      0x1234,
      0x12340n,
      0xb800,
      0xb8000n,
      0xd000_0000n,
    ]);
  });

  it("KVM_GET_SUPPORTED_CPUID: leaf 0 is there, and no basic leaf lies beyond the highest it names", ({
    env,
    expect,
  }) => {
    const table = env.system.getSupportedCpuid();
    const leaf0 = table.find((e) => e.function === 0);
    expect(leaf0 !== undefined, "leaf 0 present").toBe(true);
    const beyond = table.filter((e) => e.function < 0x4000_0000 && e.function > leaf0!.eax);
    expect(beyond.map((e) => e.function)).toEqual([]);
  });

  it("KVM_GET_CPUID2 is empty until KVM_SET_CPUID2, then gives the table back", ({ env, expect }) => {
    const vcpu = env.createVcpu(0);
    expect(vcpu.getCpuid2()).toEqual([]);
    vcpu.setCpuid2(SMALL_CPUID);
    expect(vcpu.getCpuid2()).toEqual(SMALL_CPUID);
  });

  it("KVM_SET_CPUID2: more than KVM_MAX_CPUID_ENTRIES (256) entries is E2BIG", ({ env, fails }) => {
    const vcpu = env.createVcpu(0);
    const entries = Array.from({ length: 257 }, (_, i) => ({
      function: 0x4000_0100 + i,
      index: 0,
      flags: 0,
      eax: 0,
      ebx: 0,
      ecx: 0,
      edx: 0,
    }));
    fails("E2BIG", () => vcpu.setCpuid2(entries), "257 entries");
  });

  it("KVM_SET_CPUID2: leaf 0x80000008 with 40 virtual address bits (not 48 or 57) is EINVAL", ({ env, fails }) => {
    const vcpu = env.createVcpu(0);
    const entry = { function: 0x8000_0008, index: 0, flags: 0, eax: 0x2827, ebx: 0, ecx: 0, edx: 0 };
    fails("EINVAL", () => vcpu.setCpuid2([...SMALL_CPUID, entry]), "40 virtual bits");
  });

  it("KVM_SET_CPUID2 after KVM_RUN: the same table again is taken, a changed one is EINVAL", ({ loadGuest, fails }) => {
    const { vcpu } = loadGuest("cpuid");
    vcpu.setCpuid2(SMALL_CPUID);
    vcpu.run();
    vcpu.setCpuid2(SMALL_CPUID);
    const changed = SMALL_CPUID.map((e, i) => (i === 0 ? { ...e, eax: 0 } : e));
    fails("EINVAL", () => vcpu.setCpuid2(changed), "a changed table after KVM_RUN");
  });

  it("a guest's CPUID leaf 0 answers from the KVM_SET_CPUID2 table", ({ loadGuest, expect }) => {
    const { vcpu, ram } = loadGuest("cpuid");
    vcpu.setCpuid2(SMALL_CPUID);
    expect(vcpu.run().reason).toBe("hlt");
    const view = new DataView(ram.buffer, ram.byteOffset + 0x2000, 16);
    expect(new TextDecoder().decode(ram.subarray(0x2000, 0x200c))).toBe("MemtopoTest!");
    expect(view.getUint32(12, true)).toBe(1);
  });

  it("KVM_GET_MSR_INDEX_LIST names the SYSENTER and SYSCALL MSRs", ({ env, expect }) => {
    const list = env.system.getMsrIndexList();
    for (const msr of [MSR_SYSENTER_CS, MSR_STAR, MSR_LSTAR])
      expect(list.includes(msr), `0x${msr.toString(16)}`).toBe(true);
  });

  it("KVM_SET_MSRS then KVM_GET_MSRS gives the values back", ({ env, expect }) => {
    const vcpu = env.createVcpu(0);
    const entries = [
      { index: MSR_SYSENTER_CS, data: 0x10n },
      { index: MSR_STAR, data: 0x0023_0010_0000_0000n },
      { index: MSR_LSTAR, data: 0xffff_ffff_8100_0000n },
    ];
    expect(vcpu.setMsrs(entries)).toBe(3);
    expect(vcpu.getMsrs(entries.map((e) => e.index))).toEqual(entries);
  });

  it("KVM_SET_MSRS stops at an MSR the vCPU does not have and returns how many it wrote", ({ env, expect }) => {
    const vcpu = env.createVcpu(0);
    const written = vcpu.setMsrs([
      { index: MSR_STAR, data: 0x1n },
      { index: MSR_NONE, data: 0n },
      { index: MSR_LSTAR, data: 0xffff_ffff_8200_0000n },
    ]);
    expect(written).toBe(1);
    expect(vcpu.getMsrs([MSR_LSTAR])).toEqual([{ index: MSR_LSTAR, data: 0n }]);
  });

  it("KVM_GET_MSRS stops at an MSR the vCPU does not have", ({ env, expect }) => {
    const vcpu = env.createVcpu(0);
    expect(vcpu.getMsrs([MSR_STAR, MSR_NONE, MSR_LSTAR]).map((e) => e.index)).toEqual([MSR_STAR]);
  });

  it("KVM_SET_MSRS: a non-canonical LSTAR is refused (0 written)", ({ env, expect }) => {
    const vcpu = env.createVcpu(0);
    expect(vcpu.setMsrs([{ index: MSR_LSTAR, data: 0x0000_8000_0000_0000n }])).toBe(0);
  });

  it("KVM_SET_FPU then KVM_GET_FPU gives FCW and XMM0 back; MXCSR travels in neither (kvm_arch_vcpu_ioctl_get_fpu/set_fpu), XSAVE keeps it", ({
    env,
    expect,
  }) => {
    const vcpu = env.createVcpu(0);
    const before = vcpu.getXsave().mxcsr;
    const fpu = vcpu.getFpu();
    fpu.fcw = 0x27f;
    fpu.mxcsr = 0x1fa0;
    fpu.xmm[0] = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210n;
    vcpu.setFpu(fpu);
    const back = vcpu.getFpu();
    expect([back.fcw, back.mxcsr, back.xmm[0]]).toEqual([fpu.fcw, 0, fpu.xmm[0]]);
    expect(vcpu.getXsave().mxcsr).toBe(before);
  });

  it("KVM_SET_XCRS: an XCR0 without the x87 bit is EINVAL", ({ env, fails }) => {
    const vcpu = env.createVcpu(0);
    fails("EINVAL", () => vcpu.setXcrs({ flags: 0, xcrs: [{ xcr: 0, value: 2n }] }), "XCR0 = SSE alone");
  });

  it("KVM_GET_LAPIC needs the in-kernel LAPIC: EINVAL without KVM_CREATE_IRQCHIP", ({ env, fails }) => {
    const plain = env.createVcpu(0);
    fails("EINVAL", () => plain.getLapic(), "KVM_GET_LAPIC without the irqchip");
  });

  it("with the in-kernel irqchip, vCPU 1's LAPIC ID register holds 1 in bits 31:24, and vCPU 1 waits for INIT/SIPI", ({
    env,
    expect,
  }) => {
    env.vm.createIrqchip();
    env.createVcpu(0);
    const ap = env.createVcpu(1);
    expect(ap.getLapic().id >>> 24).toBe(1);
    expect(ap.getMpState()).toBe("uninitialized");
  });

  it("KVM_SET_MP_STATE without the in-kernel LAPIC takes RUNNABLE only (HALTED is EINVAL)", ({
    env,
    expect,
    fails,
  }) => {
    const vcpu = env.createVcpu(0);
    expect(vcpu.getMpState()).toBe("runnable");
    vcpu.setMpState("runnable");
    fails("EINVAL", () => vcpu.setMpState("halted"), "HALTED without the LAPIC");
  });

  it("KVM_SET_DEBUGREGS: DR0-DR3 round-trip; DR6 with bits 63:32 set is EINVAL", ({ env, expect, fails }) => {
    const vcpu = env.createVcpu(0);
    const regs = vcpu.getDebugRegs();
    regs.db = [0x1000n, 0x2000n, 0x3000n, 0x4000n];
    vcpu.setDebugRegs(regs);
    expect(vcpu.getDebugRegs().db).toEqual(regs.db);
    fails("EINVAL", () => vcpu.setDebugRegs({ ...regs, dr6: 1n << 32n }), "DR6 bit 32");
  });

  it("KVM_SET_VCPU_EVENTS: an injected exception vector above 31, or NMI's (2), is EINVAL", ({ env, fails }) => {
    const vcpu = env.createVcpu(0);
    const events = vcpu.getVcpuEvents();
    fails(
      "EINVAL",
      () => vcpu.setVcpuEvents({ ...events, exception: { ...events.exception, injected: 1, nr: 32 } }),
      "vector 32",
    );
    fails(
      "EINVAL",
      () => vcpu.setVcpuEvents({ ...events, exception: { ...events.exception, injected: 1, nr: 2 } }),
      "vector 2",
    );
  });

  it("KVM_TRANSLATE with paging off maps a linear address to itself", ({ env, expect }) => {
    const vcpu = env.createVcpu(0);
    const t = vcpu.translate(0x12_3456n);
    expect([t.physicalAddress, t.valid]).toEqual([0x12_3456n, true]);
  });
}
