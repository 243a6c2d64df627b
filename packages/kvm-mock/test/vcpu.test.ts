import { fc, test } from "@fast-check/vitest";
import { KVM_GUESTDBG, type VcpuExit } from "@memtopo/kvm";
import { describe, expect, it } from "vitest";
import { KVM_INTERNAL_ERROR_EMULATION, MockKvm, type MockKvmOptions, type MockVcpu } from "../src/index.js";
import { expectErrno } from "./helpers.js";

const hex = (text: string): Uint8Array => Uint8Array.from(text.match(/../g)!, (h) => Number.parseInt(h, 16));
const ENTRY = 0x1000;

/** 64 KiB of RAM at 0 with `code` at 0x1000, and vCPU 0 in real mode there (segments at 0, SP 0x7000). */
function machine(code: Uint8Array, options: MockKvmOptions & { irqchip?: boolean } = {}) {
  const { irqchip, ...kvmOptions } = options;
  const kvm = new MockKvm(kvmOptions);
  const block = kvm.ramAllocator().allocate("ram", 0x1_0000n);
  const ram = block.bytes();
  ram.set(code, ENTRY);
  kvm.setUserMemoryRegion({
    slot: 0,
    flags: 0,
    guestPhysAddr: 0n,
    memorySize: 0x1_0000n,
    userspaceAddr: block.hostAddr,
  });
  if (irqchip === true) kvm.createIrqchip();
  const vcpu = kvm.createVcpu(0);
  const sregs = vcpu.getSregs();
  for (const name of ["cs", "ds", "es", "fs", "gs", "ss"] as const)
    sregs[name] = { ...sregs[name], selector: 0, base: 0n };
  vcpu.setSregs(sregs);
  vcpu.setRegs({ ...vcpu.getRegs(), rip: BigInt(ENTRY), rsp: 0x7000n, rflags: 2n, rdx: 0n });
  return { kvm, vcpu, ram };
}

function setRegs(vcpu: MockVcpu, regs: Partial<ReturnType<MockVcpu["getRegs"]>>): void {
  vcpu.setRegs({ ...vcpu.getRegs(), ...regs });
}

describe("MockVcpu: the interpreter's exits are KVM_RUN's", () => {
  it("an MMIO read-modify-write (INC WORD FS:[0]) is a read exit, then the re-run instruction's write exit", () => {
    const { vcpu } = machine(hex("64ff060000f4")); // incw %fs:0; hlt
    const sregs = vcpu.getSregs();
    vcpu.setSregs({ ...sregs, fs: { ...sregs.fs, base: 0xd000_0000n } });
    const read = vcpu.run();
    expect(read).toMatchObject({ reason: "mmio", addr: 0xd000_0000n, isWrite: false });
    expect(vcpu.getRegs().rip).toBe(BigInt(ENTRY)); // the instruction waits for the data
    if (read.reason !== "mmio") throw new Error("unreachable");
    read.data.set([0xff, 0x12]);
    const write = vcpu.run();
    expect(write).toMatchObject({
      reason: "mmio",
      addr: 0xd000_0000n,
      isWrite: true,
      data: Uint8Array.from([0x00, 0x13]),
    });
    expect(vcpu.getRegs().rip).toBe(BigInt(ENTRY + 5));
    expect(vcpu.run().reason).toBe("hlt");
  });

  it("REP INSB reads ahead to the end of the destination page in one IO exit (count > 1), as KVM's emulator does", () => {
    const { vcpu, ram } = machine(hex("f36cf4")); // rep insb; hlt
    setRegs(vcpu, { rdi: 0x2ff0n, rcx: 0x20n, rdx: 0x60n });
    const first = vcpu.run();
    expect(first).toMatchObject({ reason: "io", direction: "in", port: 0x60, size: 1, count: 0x10 });
    if (first.reason !== "io") throw new Error("unreachable");
    first.data.fill(0xab);
    const second = vcpu.run();
    expect(second).toMatchObject({ reason: "io", direction: "in", count: 0x10 });
    if (second.reason !== "io") throw new Error("unreachable");
    second.data.fill(0xcd);
    expect(vcpu.run().reason).toBe("hlt");
    expect([ram[0x2ff0], ram[0x2fff], ram[0x3000], ram[0x300f]]).toEqual([0xab, 0xab, 0xcd, 0xcd]);
    expect(vcpu.getRegs().rcx).toBe(0n);
  });

  it("REP OUTSB is one IO exit per element", () => {
    const { vcpu, ram } = machine(hex("f36ef4")); // rep outsb; hlt
    ram.set([1, 2, 3], 0x2000);
    setRegs(vcpu, { rsi: 0x2000n, rcx: 3n, rdx: 0x80n });
    const exits: VcpuExit[] = [];
    for (let e = vcpu.run(); e.reason !== "hlt"; e = vcpu.run()) exits.push({ ...e });
    expect(exits.map((e) => (e.reason === "io" ? [e.count, e.data[0]] : e.reason))).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
    ]);
  });

  it("an instruction it does not emulate (UD2) is KVM's emulation-failure internal error, RIP left on it", () => {
    const { vcpu } = machine(hex("0f0b"));
    expect(vcpu.run()).toMatchObject({ reason: "internal-error", suberror: KVM_INTERNAL_ERROR_EMULATION });
    expect(vcpu.getRegs().rip).toBe(BigInt(ENTRY));
  });

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.bigInt({ min: 0n, max: 0xffffn })], { numRuns: 200 })(
    "random code never makes run() throw: every run ends in an exit (fuzz)",
    (code, sp) => {
      const { vcpu } = machine(code, { vcpuTimeslice: 300 });
      setRegs(vcpu, { rsp: sp });
      for (let i = 0; i < 20; i++) {
        const exit = vcpu.run();
        expect(typeof exit.reason).toBe("string");
        if (exit.reason === "internal-error" || exit.reason === "hlt" || exit.reason === "intr") break;
      }
    },
  );

  it("a guest spinning in `jmp $` comes back as an intr exit after the timeslice (a signal's EINTR), kick() at once", () => {
    const { vcpu } = machine(hex("ebfe"), { vcpuTimeslice: 500 });
    expect(vcpu.run().reason).toBe("intr");
    vcpu.kick();
    expect(vcpu.run().reason).toBe("intr");
    expect(vcpu.getRegs().rip).toBe(BigInt(ENTRY));
  });

  it("without the irqchip, requestInterruptWindow gives irq-window-open once the guest can take an interrupt", () => {
    const { vcpu } = machine(hex("fb90ebfe")); // sti; nop; jmp $
    vcpu.requestInterruptWindow = true;
    expect(vcpu.run().reason).toBe("irq-window-open");
    expect(vcpu.ifFlag).toBe(true);
    expect(vcpu.readyForInterruptInjection).toBe(true);
    // STI's shadow covered the NOP: the window opened after it.
    expect(vcpu.getRegs().rip).toBe(BigInt(ENTRY + 2));
  });

  it("KVM_SET_GUEST_DEBUG with ENABLE | SINGLESTEP: a debug exit (#DB) after each instruction", () => {
    const { vcpu } = machine(hex("b8010083c002f4")); // mov $1, %ax; add $2, %ax; hlt
    vcpu.setGuestDebug({ control: KVM_GUESTDBG.ENABLE | KVM_GUESTDBG.SINGLESTEP, debugreg: Array(8).fill(0n) });
    expect(vcpu.run()).toMatchObject({ reason: "debug", exception: 1, pc: BigInt(ENTRY + 3) });
    expect(vcpu.run()).toMatchObject({ reason: "debug", pc: BigInt(ENTRY + 6) });
    expect(vcpu.getRegs().rax & 0xffffn).toBe(3n);
  });

  it("LIDT moves the real-mode interrupt vector table: INT 0x21 goes through the new one", () => {
    // lidt 0x2000; int $0x21; hlt — the IDTR image at 0x2000 puts the table at 0x3000.
    const { vcpu, ram } = machine(hex("0f011e0020cd21f4"));
    ram.set([0xff, 0x03, 0x00, 0x30, 0x00, 0x00], 0x2000);
    ram.set([0x00, 0x14, 0x00, 0x00], 0x3000 + 0x21 * 4); // vector 0x21 -> 0000:1400
    ram[0x1400] = 0xf4;
    expect(vcpu.run().reason).toBe("hlt");
    expect(vcpu.getRegs().rip).toBe(0x1401n);
    expect(vcpu.getSregs().idt).toEqual({ base: 0x3000n, limit: 0x3ff });
  });

  it("MOV from CR0, SETcc and RDTSC (the TSC MSR's value)", () => {
    // mov %cr0, %eax; mov %eax, %ebx; xor %ax, %ax; cmp $0, %ax; setz %cl; rdtsc; hlt
    const { vcpu } = machine(hex("0f20c06689c331c083f8000f94c10f31f4"));
    vcpu.setMsrs([{ index: 0x10, data: 0x1_0000_0000n }]);
    expect(vcpu.run().reason).toBe("hlt");
    const regs = vcpu.getRegs();
    expect(regs.rbx).toBe(0x6000_0010n);
    expect(regs.rcx & 0xffn).toBe(1n);
    expect(regs.rdx).toBe(1n);
  });

  it("a guest RDMSR of an MSR the vCPU does not have raises #GP through the guest's IVT (vector 13)", () => {
    // IVT[13] = 0000:1100 (a HLT there), then rdmsr 0x1234.
    const { vcpu, ram } = machine(hex("c70634000011c70636000000bc007066b9341200000f32f4"));
    ram[0x1100] = 0xf4;
    expect(vcpu.run().reason).toBe("hlt");
    expect(vcpu.getRegs().rip).toBe(0x1101n);
  });

  it("KVM_SET_VCPU_EVENTS: an injected external interrupt (vector 0x30) is delivered through the IVT at the next run", () => {
    const { vcpu, ram } = machine(hex("ebfe"));
    ram.set([0x00, 0x12, 0x00, 0x00], 0x30 * 4); // IVT[0x30] = 0000:1200
    ram[0x1200] = 0xf4;
    const events = vcpu.getVcpuEvents();
    vcpu.setVcpuEvents({ ...events, interrupt: { ...events.interrupt, injected: 1, nr: 0x30 } });
    expect(vcpu.getVcpuEvents().interrupt).toMatchObject({ injected: 1, nr: 0x30 });
    expect(vcpu.run().reason).toBe("hlt");
    expect(vcpu.getRegs().rip).toBe(0x1201n);
    // FLAGS, CS and IP went on the stack.
    expect(vcpu.getRegs().rsp).toBe(0x7000n - 6n);
  });

  it("with the in-kernel LAPIC an application processor waits for INIT/SIPI: run() cannot start it until it is made runnable", () => {
    const kvm = new MockKvm();
    kvm.createIrqchip();
    kvm.createVcpu(0);
    const ap = kvm.createVcpu(1);
    expect(ap.getMpState()).toBe("uninitialized");
    expect(ap.run().reason).toBe("intr");
    ap.setMpState("runnable");
    expect(ap.getMpState()).toBe("runnable");
  });

  it("KVM_SET_MP_STATE: SIPI_RECEIVED is taken as INIT_RECEIVED; STOPPED is not an x86 state (EINVAL)", () => {
    const kvm = new MockKvm();
    kvm.createIrqchip();
    const vcpu = kvm.createVcpu(0);
    vcpu.setMpState("sipi-received");
    expect(vcpu.getMpState()).toBe("init-received");
    expectErrno(() => vcpu.setMpState("stopped"), "EINVAL");
  });

  it("KVM_TRANSLATE walks the 4-level page tables of a long-mode vCPU (a 2 MiB page), unmapped is not valid", () => {
    const { vcpu, ram } = machine(new Uint8Array(1));
    const view = new DataView(ram.buffer, ram.byteOffset);
    view.setBigUint64(0x3000, 0x4003n, true); // PML4[0] -> PDPT at 0x4000
    view.setBigUint64(0x4000, 0x5003n, true); // PDPT[0] -> PD at 0x5000
    view.setBigUint64(0x5008, 0x0060_0083n, true); // PD[1]: 2 MiB page at 6 MiB
    const sregs = vcpu.getSregs();
    vcpu.setSregs({ ...sregs, cr0: 0x8000_0011n, cr3: 0x3000n, cr4: 0x20n, efer: 0x500n });
    expect(vcpu.translate(0x20_1234n)).toMatchObject({ physicalAddress: 0x60_1234n, valid: true });
    expect(vcpu.translate(0x40_0000n).valid).toBe(false);
  });

  it("closed: every vCPU call is EBADF; the VM's close() closes its vCPUs and refuses later calls", () => {
    const { kvm, vcpu } = machine(hex("f4"));
    kvm.close();
    expectErrno(() => vcpu.run(), "EBADF");
    expectErrno(() => vcpu.getRegs(), "EBADF");
    expectErrno(() => vcpu.setMsrs([]), "EBADF");
    expectErrno(() => kvm.createIrqchip(), "EBADF");
  });

  it("KVM_CREATE_VCPU: an id at KVM_MAX_VCPU_IDS (4096) is EINVAL; a closed vCPU's id stays taken (EEXIST)", () => {
    const kvm = new MockKvm();
    expectErrno(() => kvm.createVcpu(4096), "EINVAL");
    kvm.createVcpu(4095).close();
    expectErrno(() => kvm.createVcpu(4095), "EEXIST");
  });
});

describe("MockVcpu: MSRs, FPU and XSAVE with kvm_set_msr_common's and the FPU code's checks", () => {
  const EFER = 0xc000_0080;
  const PAT = 0x277;
  const TSC = 0x10;

  it("EFER: a reserved bit is refused; LMA is the CPU's and a write keeps it", () => {
    const { vcpu } = machine(hex("f4"));
    expect(vcpu.setMsrs([{ index: EFER, data: 1n << 20n }])).toBe(0);
    expect(vcpu.setMsrs([{ index: EFER, data: 0x501n }])).toBe(1); // SCE | LME | LMA
    expect(vcpu.getMsrs([EFER])[0]!.data).toBe(0x101n);
    expect(vcpu.getSregs().efer).toBe(0x101n);
  });

  it("PAT: a reserved memory type (2) in any byte is refused", () => {
    const { vcpu } = machine(hex("f4"));
    expect(vcpu.getMsrs([PAT])[0]!.data).toBe(0x0007_0406_0007_0406n);
    expect(vcpu.setMsrs([{ index: PAT, data: 0x0207_0406_0007_0406n }])).toBe(0);
  });

  it("IA32_TSC: a write sets the offset to the VM's clock; the TSC then counts on from there", () => {
    const { vcpu } = machine(hex("ebfe"), { vcpuTimeslice: 100 });
    vcpu.setMsrs([{ index: TSC, data: 1_000_000n }]);
    vcpu.run();
    const tsc = vcpu.getMsrs([TSC])[0]!.data;
    expect(tsc >= 1_000_100n && tsc < 1_001_000n).toBe(true);
  });

  it("KVM_SET_FPU and KVM_GET_XSAVE are the same registers; XSTATE_BV beyond the host's components or XCOMP_BV != 0 is EINVAL", () => {
    const { vcpu } = machine(hex("f4"));
    vcpu.setFpu({ ...vcpu.getFpu(), fcw: 0x27f, xmm: Array.from({ length: 16 }, (_, i) => BigInt(i)) });
    const xsave = vcpu.getXsave();
    expect([xsave.fcw, xsave.xmm[5]]).toEqual([0x27f, 5n]);
    expectErrno(() => vcpu.setXsave({ ...xsave, xstateBv: 0x8n }), "EINVAL");
    expectErrno(() => vcpu.setXsave({ ...xsave, xcompBv: 1n << 63n }), "EINVAL");
    vcpu.setXsave({ ...xsave, xstateBv: 0x7n, mxcsr: 0x1f80 });
  });

  it("KVM_SET_XCRS: XCR0 = x87 | SSE | AVX once CPUID 0xd offers them; AVX without SSE is EINVAL", () => {
    const kvm = new MockKvm();
    const vcpu = kvm.createVcpu(0);
    expectErrno(() => vcpu.setXcrs({ flags: 0, xcrs: [{ xcr: 0, value: 7n }] }), "EINVAL");
    vcpu.setCpuid2(kvm.getSupportedCpuid());
    vcpu.setXcrs({ flags: 0, xcrs: [{ xcr: 0, value: 7n }] });
    expect(vcpu.getXcrs().xcrs).toEqual([{ xcr: 0, value: 7n }]);
    expectErrno(() => vcpu.setXcrs({ flags: 0, xcrs: [{ xcr: 0, value: 5n }] }), "EINVAL");
  });

  it("KVM_GET_MSRS / KVM_SET_MSRS: a batch of MAX_IO_MSRS (256) or more is E2BIG", () => {
    const { vcpu } = machine(hex("f4"));
    expectErrno(() => vcpu.getMsrs(Array(256).fill(PAT)), "E2BIG");
    expectErrno(() => vcpu.setMsrs(Array(256).fill({ index: PAT, data: 0x0007_0406_0007_0406n })), "E2BIG");
  });
});
