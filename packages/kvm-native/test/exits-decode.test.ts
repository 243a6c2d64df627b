import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeLayout } from "../src/binding.js";
import { KvmRunDecoder } from "../src/index.js";

// Each new exit decoded from a kvm_run-shaped buffer filled at the addon's offsetof
// offsets, exactly where the kernel writes it (<linux/kvm.h>): runs without /dev/kvm.
const loaded = loadBinding();

describe.skipIf(!isBinding(loaded))("kvm_run decoding of SYSTEM_EVENT, IRQ_WINDOW_OPEN, DEBUG and MSR exits", () => {
  const layout = (loaded as { layout: NativeLayout }).layout;
  const { run, exits } = layout;
  const kvmRun = () => {
    const buffer = new ArrayBuffer(4096);
    return { buffer, view: new DataView(buffer), decoder: new KvmRunDecoder(layout, buffer) };
  };

  it("the offsets are those of the x86-64 struct kvm_run (static_asserts in layout.cc pin them)", () => {
    expect(run).toMatchObject({
      requestInterruptWindow: 0,
      readyForInterruptInjection: 12,
      ifFlag: 13,
      systemEventType: 32,
      systemEventNdata: 36,
      systemEventData: 40,
      systemEventDataMax: 16,
      debugException: 32,
      debugPc: 40,
      debugDr6: 48,
      debugDr7: 56,
      msrError: 32,
      msrReason: 40,
      msrIndex: 44,
      msrData: 48,
    });
  });

  it("SYSTEM_EVENT: type by name (shutdown, reset, crash, ...) and data[0..ndata)", () => {
    const { view, decoder } = kvmRun();
    const names: [number, string][] = [
      [exits.SYSTEM_EVENT_SHUTDOWN, "shutdown"],
      [exits.SYSTEM_EVENT_RESET, "reset"],
      [exits.SYSTEM_EVENT_CRASH, "crash"],
      [exits.SYSTEM_EVENT_WAKEUP, "wakeup"],
      [exits.SYSTEM_EVENT_SUSPEND, "suspend"],
      [exits.SYSTEM_EVENT_SEV_TERM, "sev-term"],
      [99, "unknown"],
    ];
    view.setUint32(run.exitReason, exits.SYSTEM_EVENT, true);
    for (const [code, type] of names) {
      view.setUint32(run.systemEventType, code, true);
      view.setUint32(run.systemEventNdata, 2, true);
      view.setBigUint64(run.systemEventData, 0x8400_0009n, true);
      view.setBigUint64(run.systemEventData + 8, 7n, true);
      expect(decoder.decode()).toEqual({ reason: "system-event", type, typeCode: code, data: [0x8400_0009n, 7n] });
    }
  });

  it("SYSTEM_EVENT: an ndata beyond the 16 entries of kvm_run is clamped, never read past the union", () => {
    const { view, decoder } = kvmRun();
    view.setUint32(run.exitReason, exits.SYSTEM_EVENT, true);
    view.setUint32(run.systemEventType, exits.SYSTEM_EVENT_RESET, true);
    view.setUint32(run.systemEventNdata, 0xffff_ffff, true);
    const exit = decoder.decode();
    expect(exit.reason === "system-event" && exit.data.length).toBe(16);
  });

  it("IRQ_WINDOW_OPEN, and the interrupt-window fields a VMM injecting interrupts itself reads and sets", () => {
    const { buffer, view, decoder } = kvmRun();
    view.setUint32(run.exitReason, exits.IRQ_WINDOW_OPEN, true);
    view.setUint8(run.readyForInterruptInjection, 1);
    view.setUint8(run.ifFlag, 1);
    expect(decoder.decode()).toEqual({ reason: "irq-window-open" });
    expect([decoder.readyForInterruptInjection, decoder.ifFlag]).toEqual([true, true]);
    view.setUint8(run.ifFlag, 0);
    expect(decoder.ifFlag).toBe(false);
    decoder.requestInterruptWindow = true;
    expect(new Uint8Array(buffer)[0]).toBe(1);
    expect(decoder.requestInterruptWindow).toBe(true);
    decoder.requestInterruptWindow = false;
    expect(new Uint8Array(buffer)[0]).toBe(0);
  });

  it("DEBUG: struct kvm_debug_exit_arch (exception, pc, dr6, dr7)", () => {
    const { view, decoder } = kvmRun();
    view.setUint32(run.exitReason, exits.DEBUG, true);
    view.setUint32(run.debugException, 1, true);
    view.setBigUint64(run.debugPc, 0xffff_ffff_8100_0000n, true);
    view.setBigUint64(run.debugDr6, 0xffff_4ff1n, true);
    view.setBigUint64(run.debugDr7, 0x401n, true);
    expect(decoder.decode()).toEqual({
      reason: "debug",
      exception: 1,
      pc: 0xffff_ffff_8100_0000n,
      dr6: 0xffff_4ff1n,
      dr7: 0x401n,
    });
  });

  it("X86_RDMSR/WRMSR: reason, index, and data/error as views of kvm_run.msr that the kernel reads back", () => {
    const { view, decoder } = kvmRun();
    const cases: [number, string, number, string][] = [
      [exits.X86_RDMSR, "x86-rdmsr", exits.MSR_EXIT_REASON_UNKNOWN, "unknown"],
      [exits.X86_WRMSR, "x86-wrmsr", exits.MSR_EXIT_REASON_INVAL, "invalid"],
      [exits.X86_RDMSR, "x86-rdmsr", exits.MSR_EXIT_REASON_FILTER, "filter"],
    ];
    for (const [reason, name, code, msrReason] of cases) {
      view.setUint32(run.exitReason, reason, true);
      view.setUint32(run.msrReason, code, true);
      view.setUint32(run.msrIndex, 0xc000_0080, true);
      view.setBigUint64(run.msrData, 0x1234n, true);
      view.setUint8(run.msrError, 0);
      const exit = decoder.decodeInPlace();
      expect(exit).toMatchObject({ reason: name, msrReason, index: 0xc000_0080 });
      if (exit.reason !== "x86-rdmsr" && exit.reason !== "x86-wrmsr") throw new Error("not an MSR exit");
      expect(exit.data[0]).toBe(0x1234n);
      exit.data[0] = 0xdead_beef_0000_0001n;
      exit.error[0] = 1;
      expect(view.getBigUint64(run.msrData, true)).toBe(0xdead_beef_0000_0001n);
      expect(view.getUint8(run.msrError)).toBe(1);
    }
  });

  it("an MSR exit whose reason is none of KVM_MSR_EXIT_REASON_* is a KvmError (EIO), not a guess", () => {
    const { view, decoder } = kvmRun();
    view.setUint32(run.exitReason, exits.X86_RDMSR, true);
    view.setUint32(run.msrReason, 0x80, true);
    expect(() => decoder.decode()).toThrow(expect.objectContaining({ name: "KvmError", code: "EIO" }));
  });

  it("an exit number memtopo does not know stays `other` with the number", () => {
    const { view, decoder } = kvmRun();
    view.setUint32(run.exitReason, 1000, true);
    expect(decoder.decode()).toEqual({ reason: "other", exitReason: 1000 });
  });
});
