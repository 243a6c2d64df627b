import { KVM_GUESTDBG, type VcpuExit } from "@memtopo/kvm";
import { afterEach, describe, expect, it } from "vitest";
import { runVcpu } from "../src/index.js";
import { kvm, type Machine, machine, RecordingBus } from "./helpers.js";

// The new exits from real guests (tiny 16-bit programs in test/guests). SYSTEM_EVENT
// (PSCI/ACPI on other architectures) has no x86 guest here: exits-decode.test.ts covers
// its decoding from kvm_run bytes.
describe.skipIf(!kvm.ok)("exits from real guests on /dev/kvm", () => {
  let m: Machine | undefined;
  afterEach(() => {
    m?.vm.close();
    m = undefined;
  });
  const buses = () => ({ memory: new RecordingBus(), io: new RecordingBus() });

  it("a triple fault (an interrupt through an empty IDT) is KVM_EXIT_SHUTDOWN: runVcpu stops with shutdown", () => {
    m = machine("triple-fault");
    const result = runVcpu(m.vcpu, buses(), { maxExits: 10 });
    expect(result).toMatchObject({ reason: "shutdown", exit: { reason: "shutdown" } });
  });

  it("with KVM_CAP_X86_USER_SPACE_MSR, RDMSR/WRMSR of an MSR KVM does not know exit to the hook, whose data the guest reads", () => {
    m = machine("msr");
    m.vm.enableUserSpaceMsr(["unknown", "invalid"]);
    const seen: VcpuExit[] = [];
    const result = runVcpu(m.vcpu, buses(), {
      maxExits: 10,
      onExit(exit) {
        if (exit.reason === "x86-rdmsr") {
          seen.push({ ...exit, data: BigUint64Array.of(exit.data[0]!) });
          exit.data[0] = 0x0102_0304_0506_0708n;
          return "continue";
        }
        if (exit.reason === "x86-wrmsr") {
          seen.push({ ...exit, data: BigUint64Array.of(exit.data[0]!) });
          return "continue";
        }
        return "stop";
      },
    });
    expect(result.reason).toBe("hlt");
    expect(seen.map((e) => (e.reason === "x86-rdmsr" || e.reason === "x86-wrmsr" ? [e.reason, e.index] : []))).toEqual([
      ["x86-rdmsr", 0xabcd],
      ["x86-wrmsr", 0xabcd],
    ]);
    const wr = seen[1] as Extract<VcpuExit, { index: number }>;
    expect(wr.data[0]).toBe(0x5566_7788_1122_3344n);
    const bytes = new DataView(m.lowRam.bytes().buffer, m.lowRam.bytes().byteOffset);
    expect(bytes.getUint32(0x2000, true)).toBe(0x0506_0708);
    expect(bytes.getUint32(0x2004, true)).toBe(0x0102_0304);
  });

  it("KVM_X86_SET_MSR_FILTER denying reads of the MSR makes its RDMSR a `filter` exit; its WRMSR, not filtered, stays `unknown`", () => {
    m = machine("msr");
    m.vm.enableUserSpaceMsr(["filter", "unknown"]);
    // Deny reads of 0xabcd only; everything else falls to the default (allow).
    m.vm.setMsrFilter({
      defaultDeny: false,
      ranges: [{ read: true, write: false, base: 0xabcd, nmsrs: 1, bitmap: Uint8Array.of(0) }],
    });
    const reasons: string[] = [];
    runVcpu(m.vcpu, buses(), {
      maxExits: 10,
      onExit(exit) {
        if (exit.reason === "x86-rdmsr" || exit.reason === "x86-wrmsr") {
          reasons.push(`${exit.reason}:${exit.msrReason}`);
          return "continue";
        }
        return "stop";
      },
    });
    expect(reasons).toEqual(["x86-rdmsr:filter", "x86-wrmsr:unknown"]);
  });

  it("KVM_SET_GUEST_DEBUG single-step: each instruction ends in KVM_EXIT_DEBUG (#DB, pc after it), continued by the hook", () => {
    m = machine("ram");
    m.vcpu.setGuestDebug({ control: KVM_GUESTDBG.ENABLE | KVM_GUESTDBG.SINGLESTEP, debugreg: Array(8).fill(0n) });
    const steps: { exception: number; pc: bigint }[] = [];
    const result = runVcpu(m.vcpu, buses(), {
      maxExits: 10,
      onExit(exit) {
        if (exit.reason !== "debug") return "stop";
        steps.push({ exception: exit.exception, pc: exit.pc });
        return steps.length < 3 ? "continue" : "stop";
      },
    });
    expect(result.reason).toBe("debug");
    // ram.S at 0x1000: movb 0x2000,%al (3 bytes); incb %al (2); movb %al,0x2001 (3).
    expect(steps).toEqual([
      { exception: 1, pc: 0x1003n },
      { exception: 1, pc: 0x1005n },
      { exception: 1, pc: 0x1008n },
    ]);
  });

  it("request_interrupt_window gives KVM_EXIT_IRQ_WINDOW_OPEN once the guest's `sti` is past, with if_flag set", () => {
    m = machine("irq-window");
    m.vcpu.requestInterruptWindow = true;
    const result = runVcpu(m.vcpu, buses(), { maxExits: 10 });
    expect(result).toMatchObject({ reason: "unhandled-exit", exit: { reason: "irq-window-open" } });
    expect(m.vcpu.ifFlag).toBe(true);
    expect(m.vcpu.readyForInterruptInjection).toBe(true);
    expect(m.lowRam.bytes()[0x2000]).toBe(2);
    expect(m.vcpu.requestInterruptWindow).toBe(true);
  });
});
