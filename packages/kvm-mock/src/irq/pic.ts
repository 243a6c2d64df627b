import { PIC_STATE_FIELDS, type PicState } from "@memtopo/kvm";

/** One 8259A. */
function resetChip(elcrMask: number): PicState {
  return {
    lastIrr: 0,
    irr: 0,
    imr: 0,
    isr: 0,
    priorityAdd: 0,
    irqBase: 0,
    readRegSelect: 0,
    poll: 0,
    specialMask: 0,
    initState: 0,
    autoEoi: 0,
    rotateOnAutoEoi: 0,
    specialFullyNestedMode: 0,
    init4: 0,
    elcr: 0,
    elcrMask,
  };
}

/** The lowest priority number among the set bits of `mask`, counted from `priorityAdd`; 8 when none. */
function priority(s: PicState, mask: number): number {
  if (mask === 0) return 8;
  let p = 0;
  while ((mask & (1 << ((p + s.priorityAdd) & 7))) === 0) p++;
  return p;
}

/**
 * The master and slave 8259A of KVM's in-kernel PIC (arch/x86/kvm/i8259.c behaviour): pins
 * 0-15 with per-source levels, the ICW/OCW port protocol on 0x20/0x21 and 0xa0/0xa1, ELCR
 * on 0x4d0/0x4d1, acknowledge and EOI. `onAck(pin)` runs when an in-service bit is cleared
 * (KVM's ack notifiers: resample irqfds listen there).
 */
export class Pic {
  readonly chips: [PicState, PicState] = [resetChip(0xf8), resetChip(0xde)];
  /** Per pin, a bit per source that holds the line high (KVM_IRQ_LINE's source, the resampler's). */
  readonly #levels = new Uint8Array(16);
  readonly #onAck: (pin: number) => void;

  constructor(onAck: (pin: number) => void) {
    this.#onAck = onAck;
  }

  get(chip: 0 | 1): PicState {
    return { ...this.chips[chip] };
  }

  set(chip: 0 | 1, state: PicState): void {
    const next = {} as PicState;
    for (const field of PIC_STATE_FIELDS) next[field] = state[field] & 0xff;
    this.chips[chip] = next;
    this.#update();
  }

  /** A source drives `pin` (0-15); returns KVM's status: 1 raised, 0 coalesced, -1 masked. */
  setIrq(pin: number, source: number, level: boolean): number {
    const bit = 1 << source;
    this.#levels[pin] = level ? this.#levels[pin]! | bit : this.#levels[pin]! & ~bit;
    const s = this.chips[pin >> 3]!;
    const r = this.#setIrq1(s, pin & 7, this.#levels[pin] !== 0);
    this.#update();
    return r;
  }

  /** Whether the master's INTR output is high (an interrupt waits for INTA). */
  get output(): boolean {
    return this.#getIrq(this.chips[0], true) >= 0;
  }

  /** INTA: the vector of the highest-priority pending interrupt, acknowledged. */
  acknowledge(): number {
    const [master, slave] = this.chips;
    let vector: number;
    const irq = this.#getIrq(master, true);
    if (irq >= 0) {
      this.#intack(master, irq);
      if (irq === 2) {
        let irq2 = this.#getIrq(slave, false);
        if (irq2 >= 0) this.#intack(slave, irq2);
        else irq2 = 7; // spurious IRQ on the slave
        vector = slave.irqBase + irq2;
      } else vector = master.irqBase + irq;
    } else {
      vector = master.irqBase + 7; // spurious IRQ on the master
    }
    this.#update();
    return vector & 0xff;
  }

  /** The ports the PIC claims: 0x20/0x21, 0xa0/0xa1, 0x4d0/0x4d1. */
  static claims(port: number): boolean {
    return port === 0x20 || port === 0x21 || port === 0xa0 || port === 0xa1 || port === 0x4d0 || port === 0x4d1;
  }

  read(port: number): number {
    if (port === 0x4d0 || port === 0x4d1) return this.chips[port & 1]!.elcr;
    const chipIndex = port >= 0xa0 ? 1 : 0;
    const s = this.chips[chipIndex];
    if (s.poll !== 0) {
      s.poll = 0;
      return this.#pollRead(chipIndex);
    }
    if ((port & 1) === 0) return s.readRegSelect !== 0 ? s.isr : s.irr;
    return s.imr;
  }

  write(port: number, value: number): void {
    const v = value & 0xff;
    if (port === 0x4d0 || port === 0x4d1) {
      const s = this.chips[port & 1]!;
      s.elcr = v & s.elcrMask;
      return;
    }
    const chipIndex = port >= 0xa0 ? 1 : 0;
    const s = this.chips[chipIndex];
    if ((port & 1) === 0) {
      if ((v & 0x10) !== 0) this.#icw1(chipIndex, v);
      else if ((v & 0x08) !== 0) {
        if ((v & 0x04) !== 0) s.poll = 1;
        if ((v & 0x02) !== 0) s.readRegSelect = v & 1;
        if ((v & 0x40) !== 0) s.specialMask = (v >> 5) & 1;
      } else this.#ocw2(chipIndex, v);
      return;
    }
    switch (s.initState) {
      case 0:
        s.imr = v;
        this.#update();
        break;
      case 1:
        s.irqBase = v & 0xf8;
        s.initState = 2;
        break;
      case 2:
        s.initState = s.init4 !== 0 ? 3 : 0;
        break;
      default:
        s.specialFullyNestedMode = (v >> 4) & 1;
        s.autoEoi = (v >> 1) & 1;
        s.initState = 0;
    }
  }

  #icw1(chipIndex: number, v: number): void {
    const s = this.chips[chipIndex]!;
    s.init4 = v & 1;
    // ICW1 resets the chip: what was in service is acknowledged (and its ack notifiers run).
    const inService = s.isr;
    s.lastIrr = 0;
    s.irr &= s.elcr;
    s.imr = 0;
    s.priorityAdd = 0;
    s.specialMask = 0;
    s.readRegSelect = 0;
    if (s.init4 === 0) {
      s.specialFullyNestedMode = 0;
      s.autoEoi = 0;
    }
    s.initState = 1;
    for (let irq = 0; irq < 8; irq++) if ((inService & (1 << irq)) !== 0) this.#clearIsr(chipIndex, irq);
    this.#update();
  }

  #ocw2(chipIndex: number, v: number): void {
    const s = this.chips[chipIndex]!;
    const cmd = v >> 5;
    switch (cmd) {
      case 0:
      case 4:
        s.rotateOnAutoEoi = cmd >> 2;
        break;
      case 1:
      case 5: {
        const p = priority(s, s.isr);
        if (p !== 8) {
          const irq = (p + s.priorityAdd) & 7;
          if (cmd === 5) s.priorityAdd = (irq + 1) & 7;
          this.#clearIsr(chipIndex, irq);
          this.#update();
        }
        break;
      }
      case 3:
        this.#clearIsr(chipIndex, v & 7);
        this.#update();
        break;
      case 6:
        s.priorityAdd = (v + 1) & 7;
        this.#update();
        break;
      case 7:
        s.priorityAdd = ((v & 7) + 1) & 7;
        this.#clearIsr(chipIndex, v & 7);
        this.#update();
        break;
      default:
        break;
    }
  }

  #pollRead(chipIndex: number): number {
    const s = this.chips[chipIndex]!;
    const irq = this.#getIrq(s, chipIndex === 0);
    if (irq < 0) {
      this.#update();
      return 0x07;
    }
    if (chipIndex === 1) {
      this.chips[0].isr &= ~(1 << 2);
      this.chips[0].irr &= ~(1 << 2);
    }
    s.irr &= ~(1 << irq);
    this.#clearIsr(chipIndex, irq);
    if (chipIndex === 1 || irq !== 2) this.#update();
    return irq;
  }

  #setIrq1(s: PicState, irq: number, level: boolean): number {
    const mask = 1 << irq;
    let r = 1;
    if ((s.elcr & mask) !== 0) {
      if (level) {
        r = (s.irr & mask) === 0 ? 1 : 0;
        s.irr |= mask;
        s.lastIrr |= mask;
      } else {
        s.irr &= ~mask;
        s.lastIrr &= ~mask;
      }
    } else if (level) {
      if ((s.lastIrr & mask) === 0) {
        r = (s.irr & mask) === 0 ? 1 : 0;
        s.irr |= mask;
      }
      s.lastIrr |= mask;
    } else s.lastIrr &= ~mask;
    return (s.imr & mask) !== 0 ? -1 : r;
  }

  /** The pin to raise next on this chip, or -1. */
  #getIrq(s: PicState, master: boolean): number {
    const p = priority(s, s.irr & ~s.imr);
    if (p === 8) return -1;
    let inService = s.isr;
    // Special fully nested mode: the slave's pin does not block further slave interrupts.
    if (master && s.specialFullyNestedMode !== 0) inService &= ~(1 << 2);
    const current = priority(s, inService);
    return p < current ? (p + s.priorityAdd) & 7 : -1;
  }

  #intack(s: PicState, irq: number): void {
    s.isr |= 1 << irq;
    if (s.autoEoi !== 0) {
      if (s.rotateOnAutoEoi !== 0) s.priorityAdd = (irq + 1) & 7;
      this.#clearIsr(s === this.chips[0] ? 0 : 1, irq);
    }
    // A level-triggered request stays in IRR until the device lowers it.
    if ((s.elcr & (1 << irq)) === 0) s.irr &= ~(1 << irq);
  }

  #clearIsr(chipIndex: number, irq: number): void {
    this.chips[chipIndex]!.isr &= ~(1 << irq);
    this.#onAck(irq + chipIndex * 8);
  }

  /** The slave's output cascades into master pin 2. */
  #update(): void {
    const slaveIrq = this.#getIrq(this.chips[1], false);
    this.#setIrq1(this.chips[0], 2, slaveIrq >= 0);
  }
}
