import { describe, expect, it } from "vitest";
import {
  EdgeIrqfdLine,
  GsiIrqLine,
  KVM_CAP,
  KvmError,
  type ReadableNotifier,
  ResampleIrqfdLine,
  readCapabilities,
} from "../src/index.js";

/** An eventfd stand-in: signals add to the counter, read() takes and resets it. */
class Counter implements ReadableNotifier {
  readonly id = 1;
  count = 0n;
  signals = 0;
  signal(): void {
    this.count++;
    this.signals++;
  }
  read(): bigint {
    const n = this.count;
    this.count = 0n;
    return n;
  }
}

describe("IrqLine (QEMU's qemu_irq) over KVM_IRQ_LINE and irqfds", () => {
  it("GsiIrqLine drives KVM_IRQ_LINE with the level; pulse is raise then lower (qemu_irq_pulse)", () => {
    const calls: [number, boolean][] = [];
    const line = new GsiIrqLine(
      {
        irqLine(gsi, level) {
          calls.push([gsi, level]);
          return level ? 1 : 0;
        },
      },
      9,
    );
    line.raise();
    expect(line.level).toBe(true);
    expect(line.lastStatus).toBe(1);
    line.lower();
    line.pulse();
    line.set(true);
    expect(calls).toEqual([
      [9, true],
      [9, false],
      [9, true],
      [9, false],
      [9, true],
    ]);
  });

  it("GsiIrqLine keeps its level when the ioctl fails", () => {
    const line = new GsiIrqLine(
      {
        irqLine() {
          throw new KvmError("ENXIO", "KVM_IRQ_LINE_STATUS", "no irqchip");
        },
      },
      1,
    );
    expect(() => line.raise()).toThrow(KvmError);
    expect(line.level).toBe(false);
  });

  it("EdgeIrqfdLine signals the eventfd on a rising level only (the kernel injects an edge per signal)", () => {
    const trigger = new Counter();
    const line = new EdgeIrqfdLine(trigger);
    line.raise();
    line.raise();
    expect(trigger.signals).toBe(1);
    line.lower();
    expect(trigger.signals).toBe(1);
    line.raise();
    line.pulse();
    expect(trigger.signals).toBe(3);
    expect(line.level).toBe(false);
  });

  it("ResampleIrqfdLine: asserted once until the EOI's resample; re-asserted after it while high, not once lowered", () => {
    const trigger = new Counter();
    const resample = new Counter();
    const line = new ResampleIrqfdLine(trigger, resample);
    line.raise();
    line.raise();
    expect(trigger.signals).toBe(1);
    expect(line.asserted).toBe(true);
    expect(line.resample()).toBe(false);
    resample.signal(); // the guest's EOI
    expect(line.resample()).toBe(true);
    expect(trigger.signals).toBe(2);
    line.lower();
    resample.signal();
    expect(line.resample()).toBe(true);
    expect(trigger.signals).toBe(2);
    expect(line.asserted).toBe(false);
    line.pulse();
    expect(trigger.signals).toBe(3);
    expect(line.level).toBe(false);
  });
});

describe("readCapabilities", () => {
  it("reads each capability from checkExtension: booleans from >0, counts as the kernel's numbers", () => {
    const values = new Map<number, number>([
      [KVM_CAP.IRQCHIP, 1],
      [KVM_CAP.IRQ_ROUTING, 4096],
      [KVM_CAP.NR_VCPUS, 8],
      [KVM_CAP.NR_MEMSLOTS, 32764],
      [KVM_CAP.MULTI_ADDRESS_SPACE, 2],
      [KVM_CAP.ADJUST_CLOCK, 14],
      [KVM_CAP.IRQFD, 1],
    ]);
    const caps = readCapabilities({ checkExtension: (cap) => values.get(cap) ?? 0 });
    expect(caps).toMatchObject({
      irqchip: true,
      irqfd: true,
      irqfdResample: false,
      irqRouting: true,
      gsiCount: 4096,
      nrVcpus: 8,
      nrMemslots: 32764,
      addressSpaces: 2,
      clockFlags: 14,
      pit2: false,
    });
  });

  it("applies the kernel's documented fallbacks: MAX_VCPUS absent means NR_VCPUS, MAX_VCPU_ID absent means MAX_VCPUS, one address space", () => {
    const caps = readCapabilities({ checkExtension: (cap) => (cap === KVM_CAP.NR_VCPUS ? 4 : 0) });
    expect(caps.maxVcpus).toBe(4);
    expect(caps.maxVcpuId).toBe(4);
    expect(caps.addressSpaces).toBe(1);
  });
});
