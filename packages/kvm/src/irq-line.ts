import type { EventNotifier } from "@memtopo/region-tree";
import { KvmError } from "./errors.js";
import type { KvmInterrupts } from "./interrupts.js";

/**
 * One interrupt wire a device model holds, as QEMU's `qemu_irq`: the device sets its
 * level and does not know what is at the other end (a GSI through KVM_IRQ_LINE, an irqfd).
 */
export interface IrqLine {
  /** The level the device last set. */
  readonly level: boolean;
  set(level: boolean): void;
  raise(): void;
  lower(): void;
  /** Raise then lower: one edge (QEMU's qemu_irq_pulse). */
  pulse(): void;
}

/** An eventfd-backed notifier whose counter the caller can read and reset (the resample side of an irqfd). */
export interface ReadableNotifier extends EventNotifier {
  /** The counter since the last read, reset to 0; 0n when never signalled. */
  read(): bigint;
}

function level(value: unknown, operation: string): boolean {
  if (typeof value !== "boolean") throw new KvmError("EINVAL", operation, "level must be a boolean");
  return value;
}

/** A line driven with KVM_IRQ_LINE_STATUS: the GSI follows the level, edge or level as the irqchip pin is set up. */
export class GsiIrqLine implements IrqLine {
  readonly gsi: number;
  readonly #vm: Pick<KvmInterrupts, "irqLine">;
  #level = false;
  /** What the last KVM_IRQ_LINE_STATUS reported (>0 delivered, 0 coalesced or masked). */
  lastStatus = 0;

  constructor(vm: Pick<KvmInterrupts, "irqLine">, gsi: number) {
    if (!Number.isInteger(gsi) || gsi < 0 || gsi > 0xffffffff) {
      const got = typeof gsi === "number" ? String(gsi) : `a ${typeof gsi}`;
      throw new KvmError("EINVAL", "GsiIrqLine", `gsi must be an integer in [0, 2^32), got ${got}`);
    }
    this.#vm = vm;
    this.gsi = gsi;
  }

  get level(): boolean {
    return this.#level;
  }

  set(value: boolean): void {
    const l = level(value, "KVM_IRQ_LINE");
    this.lastStatus = this.#vm.irqLine(this.gsi, l);
    this.#level = l;
  }

  raise(): void {
    this.set(true);
  }

  lower(): void {
    this.set(false);
  }

  pulse(): void {
    this.set(true);
    this.set(false);
  }
}

/**
 * A line through an irqfd without resample: the kernel injects an edge (assert, then
 * deassert) on each signal, so only a rising level reaches the guest; lowering is local.
 */
export class EdgeIrqfdLine implements IrqLine {
  readonly #trigger: EventNotifier;
  #level = false;

  constructor(trigger: EventNotifier) {
    this.#trigger = trigger;
  }

  get level(): boolean {
    return this.#level;
  }

  set(value: boolean): void {
    const l = level(value, "irqfd");
    if (l && !this.#level) this.#trigger.signal();
    this.#level = l;
  }

  raise(): void {
    this.set(true);
  }

  lower(): void {
    this.set(false);
  }

  pulse(): void {
    this.#trigger.signal();
    this.#level = false;
  }
}

/**
 * A level line through an irqfd with a resample eventfd (KVM_IRQFD_FLAG_RESAMPLE), as QEMU's
 * kvm_irqchip_add_irqfd_notifier_gsi wires INTx: a signal asserts the GSI, which stays
 * asserted until the guest's EOI; the kernel then deasserts it and signals the resample
 * fd, and {@link resample} asserts it again if the device still holds the line high.
 * The kernel has no deassert for such a GSI: a line lowered while asserted is dropped at
 * the next EOI, not before (the guest may take it once more, as on real INTx).
 */
export class ResampleIrqfdLine implements IrqLine {
  readonly #trigger: EventNotifier;
  readonly #resample: ReadableNotifier;
  #level = false;
  #asserted = false;

  constructor(trigger: EventNotifier, resample: ReadableNotifier) {
    this.#trigger = trigger;
    this.#resample = resample;
  }

  get level(): boolean {
    return this.#level;
  }

  /** Whether the kernel holds the GSI asserted for this line (signalled, no EOI seen yet). */
  get asserted(): boolean {
    return this.#asserted;
  }

  set(value: boolean): void {
    const l = level(value, "irqfd");
    this.#level = l;
    if (l && !this.#asserted) this.#assert();
  }

  raise(): void {
    this.set(true);
  }

  lower(): void {
    this.set(false);
  }

  pulse(): void {
    this.set(true);
    this.set(false);
  }

  /**
   * Handles the resample eventfd (call it when it is readable, or from a poll): after an
   * EOI, re-asserts the GSI if the level is still high. Returns whether an EOI was seen.
   */
  resample(): boolean {
    if (this.#resample.read() === 0n) return false;
    this.#asserted = false;
    if (this.#level) this.#assert();
    return true;
  }

  #assert(): void {
    this.#trigger.signal();
    this.#asserted = true;
  }
}
