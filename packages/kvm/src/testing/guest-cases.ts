import { EdgeIrqfdLine, GsiIrqLine, ResampleIrqfdLine } from "../irq-line.js";
import { runVcpu } from "../run-vcpu.js";
import { GUEST_ENTRY } from "./guests.js";
import type { ConformanceTestApi } from "./types.js";
import {
  defineVmCase,
  enterRealMode,
  MMIO_BASE,
  recordingBus,
  type SeenAccess,
  type VmCaseBody,
  type VmCaseContext,
} from "./vm-harness.js";
import type { ConformanceVcpu, KvmVmFactory } from "./vm-types.js";

const READY = 0x81n;
const COUNT = 0x82n;
const DONE = 0x83n;

/** IRQ4's ELCR bit on the master PIC: level-triggered. */
const LEVEL = 0x10;

/**
 * Runs the `irq` guest: `onReady` when it has programmed the PIC, `onCount(n)` each time
 * its handler ran (before its EOI); the run ends when the guest says done (a kick).
 */
function runIrqGuest(
  ctx: VmCaseContext,
  setup: { elcr: number; target: number; halt: boolean },
  onReady: () => void,
  onCount: (count: number) => void = () => {},
): { vcpu: ConformanceVcpu; ram: Uint8Array; counts: number[] } {
  const { vcpu, ram } = ctx.loadGuest("irq");
  vcpu.setRegs({
    ...vcpu.getRegs(),
    rsi: BigInt(setup.elcr),
    rdi: BigInt(setup.target),
    rbp: setup.halt ? 1n : 0n,
    rcx: 0x2000n,
  });
  const counts: number[] = [];
  const seen: SeenAccess[] = [];
  const io = recordingBus(seen, new Map(), (port, value) => {
    if (port === READY) onReady();
    else if (port === COUNT) {
      counts.push(Number(value));
      onCount(Number(value));
    } else if (port === DONE) vcpu.kick();
  });
  const result = runVcpu(vcpu, { memory: recordingBus([]), io }, { maxExits: 1000 });
  ctx
    .expect(result.reason, `the guest ran to "done" (${JSON.stringify(seen.map((s) => Number(s.addr)))})`)
    .toBe("kicked");
  return { vcpu, ram, counts };
}

/** Guests on a vCPU: exits through runVcpu, and interrupts from the in-kernel irqchip reaching a real-mode handler. */
export function guestCases(api: ConformanceTestApi, factory: KvmVmFactory): void {
  const it = (name: string, body: VmCaseBody) => defineVmCase(api, factory, name, body);

  it("runVcpu: a real-mode guest's port I/O and MMIO reach user space in order, its RAM store does not, HLT stops", ({
    loadGuest,
    expect,
  }) => {
    const { vcpu, ram } = loadGuest("io-mmio");
    enterRealMode(vcpu, GUEST_ENTRY, MMIO_BASE);
    const io: SeenAccess[] = [];
    const mmio: SeenAccess[] = [];
    const result = runVcpu(vcpu, {
      memory: recordingBus(mmio, new Map([[MMIO_BASE, 0x1122_3344n]])),
      io: recordingBus(io, new Map([[0xc110n, 0xbeefn]])),
    });
    expect(result.reason).toBe("hlt");
    expect(io).toEqual([
      { kind: "write", addr: 0x80n, size: 1, value: 0x5an },
      { kind: "read", addr: 0xc110n, size: 2, value: 0xbeefn },
    ]);
    expect(mmio).toEqual([
      { kind: "read", addr: MMIO_BASE, size: 4, value: 0x1122_3344n },
      { kind: "write", addr: MMIO_BASE + 4n, size: 4, value: 0x1122_3344n },
      { kind: "write", addr: MMIO_BASE + 8n, size: 2, value: 0xbeefn },
    ]);
    expect(ram[0x2000]).toBe(0x42);
    expect(result.exits).toBe(5);
  });

  it("an exception injected through KVM_SET_VCPU_EVENTS reaches the guest's real-mode handler", ({
    loadGuest,
    expect,
  }) => {
    const { vcpu } = loadGuest("exception");
    const reported: bigint[] = [];
    const io = recordingBus([], new Map(), (port, value) => {
      if (port === READY) {
        const events = vcpu.getVcpuEvents();
        vcpu.setVcpuEvents({ ...events, exception: { ...events.exception, injected: 1, nr: 6 } });
      } else if (port === COUNT) reported.push(value);
    });
    const result = runVcpu(vcpu, { memory: recordingBus([]), io }, { maxExits: 100 });
    expect(result.reason).toBe("hlt");
    expect(reported).toEqual([6n]);
  });

  it("KVM_IRQ_LINE: an edge on GSI 4 reaches the guest's IRQ4 handler once", (ctx) => {
    ctx.env.vm.createIrqchip();
    const line = new GsiIrqLine(ctx.env.vm, 4);
    const { ram, counts } = runIrqGuest(ctx, { elcr: 0, target: 1, halt: true }, () => line.pulse());
    ctx.expect(counts).toEqual([1]);
    ctx.expect(ram[0x500]).toBe(1);
  });

  it("KVM_IRQ_LINE, level-triggered: a line held high is taken again after the EOI; once lowered it is not", (ctx) => {
    ctx.env.vm.createIrqchip();
    const line = new GsiIrqLine(ctx.env.vm, 4);
    // The handler reports before its EOI: lowering the line at the second report ends it.
    const { counts } = runIrqGuest(
      ctx,
      { elcr: LEVEL, target: 3, halt: false },
      () => line.raise(),
      (count) => {
        if (count === 2) line.lower();
      },
    );
    ctx.expect(counts).toEqual([1, 2]);
  });

  it("KVM_IRQFD: a signal of the eventfd raises an edge the guest's handler sees", (ctx) => {
    ctx.env.vm.createIrqchip();
    const trigger = ctx.env.createEventNotifier();
    ctx.env.vm.irqfd({ gsi: 4, notifier: trigger });
    const line = new EdgeIrqfdLine(trigger);
    const { counts } = runIrqGuest(ctx, { elcr: 0, target: 1, halt: true }, () => line.raise());
    ctx.expect(counts).toEqual([1]);
  });

  it("KVM_IRQFD with a resample eventfd: the guest's EOI deasserts the GSI and signals the resample fd", (ctx) => {
    ctx.env.vm.createIrqchip();
    const trigger = ctx.env.createEventNotifier();
    const resample = ctx.env.createEventNotifier();
    ctx.env.vm.irqfd({ gsi: 4, notifier: trigger, resample });
    const line = new ResampleIrqfdLine(trigger, resample);
    const { counts } = runIrqGuest(
      ctx,
      { elcr: LEVEL, target: 1, halt: true },
      () => line.raise(),
      () => line.lower(),
    );
    ctx.expect(counts).toEqual([1]);
    ctx.expect(line.resample(), "the resample fd was signalled").toBe(true);
    ctx.expect(line.asserted).toBe(false);
  });

  it("the in-kernel PIT (channel 0, mode 2) delivers timer ticks to the guest's IRQ0 handler", ({
    env,
    loadGuest,
    expect,
  }) => {
    env.vm.createIrqchip();
    env.vm.createPit2();
    const { vcpu, ram } = loadGuest("pit");
    const io = recordingBus([], new Map(), (port) => {
      if (port === DONE) vcpu.kick();
    });
    const result = runVcpu(vcpu, { memory: recordingBus([]), io }, { maxExits: 100 });
    expect(result.reason).toBe("kicked");
    expect(ram[0x500]! >= 3).toBe(true);
  });
}
