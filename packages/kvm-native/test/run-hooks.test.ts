import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeLayout } from "../src/binding.js";
import { type ExitAction, runVcpu, type VcpuExit } from "../src/index.js";
import { RecordingBus } from "./helpers.js";
import { scriptedVcpu } from "./scripted-vcpu.js";

// runVcpu's onExit hook on a scripted vCPU (kvm_run bytes where the kernel puts them):
// every exit other than IO and MMIO goes to the hook, which continues the guest or stops it.
const loaded = loadBinding();

describe.skipIf(!isBinding(loaded))("runVcpu's onExit hook", () => {
  const layout = (loaded as { layout: NativeLayout }).layout;
  const { run, exits } = layout;
  const buses = () => ({ memory: new RecordingBus(), io: new RecordingBus() });
  const systemEvent = (type: number) => ({
    reason: exits.SYSTEM_EVENT,
    fill: (v: DataView) => {
      v.setUint32(run.systemEventType, type, true);
      v.setUint32(run.systemEventNdata, 0, true);
    },
  });
  const msr = (reason: number, index: number, value = 0n) => ({
    reason,
    fill: (v: DataView) => {
      v.setUint32(run.msrReason, exits.MSR_EXIT_REASON_UNKNOWN, true);
      v.setUint32(run.msrIndex, index, true);
      v.setBigUint64(run.msrData, value, true);
      v.setUint8(run.msrError, 0);
    },
  });

  it("without a hook, the new exits stop the loop: system-event, debug, and unhandled-exit for MSR and IRQ window", () => {
    const cases: [number, string][] = [
      [exits.SYSTEM_EVENT, "system-event"],
      [exits.DEBUG, "debug"],
      [exits.IRQ_WINDOW_OPEN, "unhandled-exit"],
      [exits.X86_WRMSR, "unhandled-exit"],
    ];
    for (const [reason, stop] of cases) {
      const step = reason === exits.X86_WRMSR ? msr(reason, 0x10) : { reason };
      expect(runVcpu(scriptedVcpu(layout, [step]), buses()).reason).toBe(stop);
    }
  });

  it("the hook sees every exit but IO and MMIO, in order; `continue` re-enters the guest, `stop` ends with the exit's reason", () => {
    const vcpu = scriptedVcpu(layout, [
      { io: { out: true, port: 0x80, size: 1, count: 1 } },
      { reason: exits.IRQ_WINDOW_OPEN },
      { reason: exits.INTERNAL_ERROR },
      { reason: 4242 },
      { reason: exits.UNKNOWN },
      { mmio: { addr: 0xd0000n, write: true, len: 1, bytes: [1] } },
      systemEvent(exits.SYSTEM_EVENT_RESET),
      { reason: exits.HLT },
    ]);
    const seen: string[] = [];
    const result = runVcpu(vcpu, buses(), {
      onExit(exit) {
        seen.push(exit.reason);
        return exit.reason === "system-event" ? "stop" : "continue";
      },
    });
    expect(seen).toEqual(["irq-window-open", "internal-error", "other", "unknown", "system-event"]);
    expect(result).toMatchObject({ reason: "system-event", exit: { reason: "system-event", type: "reset" } });
    // 2 dispatched accesses + 4 continued exits.
    expect(result.exits).toBe(6);
  });

  it("an RDMSR hook fills data (the kernel gives it to the guest as EDX:EAX) and a WRMSR hook can fail it with error", () => {
    const scripted = scriptedVcpu(layout, [msr(exits.X86_RDMSR, 0x4b56_4d00), msr(exits.X86_WRMSR, 0x1234, 0x77n)]);
    // What each KVM_RUN would read from kvm_run.msr when it enters the guest again.
    const readByKernel: [bigint, number][] = [];
    const vcpu = {
      runInPlace(): VcpuExit {
        readByKernel.push([scripted.view.getBigUint64(run.msrData, true), scripted.view.getUint8(run.msrError)]);
        return scripted.runInPlace();
      },
      run: () => scripted.run(),
    };
    const writes: [number, bigint][] = [];
    const result = runVcpu(vcpu, buses(), {
      onExit(exit) {
        if (exit.reason === "x86-rdmsr") {
          exit.data[0] = 0xaabb_ccdd_0011_2233n;
          return "continue";
        }
        if (exit.reason === "x86-wrmsr") {
          writes.push([exit.index, exit.data[0]!]);
          exit.error[0] = 1;
          return "stop";
        }
        return "stop";
      },
    });
    expect(result.reason).toBe("unhandled-exit");
    expect(readByKernel[1]).toEqual([0xaabb_ccdd_0011_2233n, 0]);
    expect(writes).toEqual([[0x1234, 0x77n]]);
    expect(scripted.view.getUint8(run.msrError)).toBe(1);
    expect(result.exits).toBe(1);
  });

  it("a kick can be continued by the hook (QEMU re-enters after handling one), and stopped with `kicked`", () => {
    const kicks = [{ reason: exits.INTR }, { reason: exits.INTR }];
    let n = 0;
    const result = runVcpu(scriptedVcpu(layout, kicks), buses(), { onExit: () => (++n === 1 ? "continue" : "stop") });
    expect(result.reason).toBe("kicked");
    expect(n).toBe(2);
  });

  it("maxExits bounds a hook that always continues", () => {
    const steps = Array.from({ length: 50 }, () => ({ reason: exits.IRQ_WINDOW_OPEN }));
    const result = runVcpu(scriptedVcpu(layout, steps), buses(), { maxExits: 10, onExit: () => "continue" });
    expect(result).toMatchObject({ reason: "max-exits", exits: 10, exit: { reason: "irq-window-open" } });
  });

  it("the exit a run stops with is a copy: a later run does not change it", () => {
    const vcpu = scriptedVcpu(layout, [systemEvent(exits.SYSTEM_EVENT_CRASH), systemEvent(exits.SYSTEM_EVENT_RESET)]);
    const first = runVcpu(vcpu, buses(), { onExit: () => "stop" });
    runVcpu(vcpu, buses(), { onExit: () => "stop" });
    expect((first.exit as Extract<VcpuExit, { reason: "system-event" }>).type).toBe("crash");
  });

  it("a hook answering anything but continue/stop is a KvmError (EINVAL) naming the exit; bad options too", () => {
    for (const bad of [undefined, "Continue", 1, null, {}, Symbol("x")]) {
      const vcpu = scriptedVcpu(layout, [{ reason: exits.IRQ_WINDOW_OPEN }]);
      expect(() => runVcpu(vcpu, buses(), { onExit: () => bad as unknown as ExitAction })).toThrow(
        expect.objectContaining({
          name: "KvmError",
          code: "EINVAL",
          message: expect.stringContaining("irq-window-open"),
        }),
      );
    }
    const vcpu = scriptedVcpu(layout, []);
    for (const options of [
      { onExit: 1 },
      { onExit: "stop" },
      { maxExits: -1 },
      { maxExits: Number.NaN },
      { maxExits: "3" },
    ]) {
      expect(() => runVcpu(vcpu, buses(), options as never)).toThrow(
        expect.objectContaining({ name: "KvmError", code: "EINVAL" }),
      );
    }
  });

  it("an exception thrown by the hook propagates as is, and the loop does not go on", () => {
    const vcpu = scriptedVcpu(layout, [{ reason: exits.DEBUG }, { reason: exits.DEBUG }]);
    let calls = 0;
    const boom = new Error("device model failed");
    expect(() =>
      runVcpu(vcpu, buses(), {
        onExit: () => {
          calls++;
          throw boom;
        },
      }),
    ).toThrow(boom);
    expect(calls).toBe(1);
  });
});
