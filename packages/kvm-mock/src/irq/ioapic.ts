import { IOAPIC_PINS, type IoapicRedirection, type IoapicState } from "@memtopo/kvm";

function maskedEntry(): IoapicRedirection {
  return {
    vector: 0,
    deliveryMode: 0,
    destMode: 0,
    deliveryStatus: 0,
    polarity: 0,
    remoteIrr: 0,
    triggerMode: 0,
    mask: 1,
    destId: 0,
    reserved: 0n,
  };
}

/**
 * KVM's in-kernel IOAPIC as far as the mock goes: its state (every pin masked after reset,
 * as kvm_ioapic_reset leaves it), IRR following the pins' levels, and KVM_IRQ_LINE_STATUS's
 * answer. An unmasked pin is accepted but reaches no vCPU: the mock's LAPICs stay
 * software-disabled, as after reset, and take no fixed interrupt.
 */
export class Ioapic {
  state: IoapicState = {
    baseAddress: 0xfec0_0000n,
    ioregsel: 0,
    id: 0,
    irr: 0,
    redirections: Array.from({ length: IOAPIC_PINS }, maskedEntry),
  };
  readonly #levels = new Uint8Array(IOAPIC_PINS);

  get(): IoapicState {
    return { ...this.state, redirections: this.state.redirections.map((r) => ({ ...r })) };
  }

  set(state: IoapicState): void {
    this.state = { ...state, redirections: state.redirections.map((r) => ({ ...r })) };
  }

  /** A source drives `pin`: 1 delivered, 0 coalesced (an edge already pending), -1 masked or blocked by remote IRR. */
  setIrq(pin: number, source: number, level: boolean): number {
    const bit = 1 << source;
    this.#levels[pin] = level ? this.#levels[pin]! | bit : this.#levels[pin]! & ~bit;
    const mask = 1 << pin;
    if (this.#levels[pin] === 0) {
      this.state.irr &= ~mask;
      return 1;
    }
    const entry = this.state.redirections[pin]!;
    const old = this.state.irr;
    this.state.irr |= mask;
    if (entry.triggerMode === 0 && old === this.state.irr) return 0;
    if (entry.mask !== 0 || (entry.triggerMode === 1 && entry.remoteIrr !== 0)) return -1;
    // Accepted, and no LAPIC takes it (see the class comment): an edge is gone, a level stays in IRR.
    if (entry.triggerMode === 0) this.state.irr &= ~mask;
    return 0;
  }
}
