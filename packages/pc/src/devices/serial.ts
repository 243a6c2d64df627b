import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";

export const COM1_IOPORT = 0x3f8n;
/** Registers by offset (DLAB=0 names), 16550. */
const UART_RBR_THR = 0;
const UART_IER = 1;
const UART_IIR_FCR = 2;
const UART_LCR = 3;
const UART_MCR = 4;
const UART_LSR = 5;
const UART_MSR = 6;
const UART_SCR = 7;
const LCR_DLAB = 0x80;
const IER_THRI = 0x02;
const IIR_NO_INT = 0x01;
const IIR_THRI = 0x02;
const IIR_FIFO_ENABLED = 0xc0;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const MCR_LOOP = 0x10;
/** Modem status with nothing attached: carrier detect, data set ready and clear to send. */
const MSR_IDLE = 0xb0;

/**
 * An 8250/16550 UART as QEMU's hw/char/serial.c behaves with output only: what the guest
 * sends goes to `onByte` at once (the transmitter is always empty), nothing is ever
 * received, the divisor latch and scratch register hold what is written, and the
 * "transmitter empty" interrupt shows in IIR (and on `irq`) while IER enables it.
 */
export class Serial {
  ier = 0;
  lcr = 0;
  mcr = 0;
  scr = 0;
  fcr = 0;
  divider = 0x0c;
  #thrPending = true;
  readonly io: MemoryRegion;
  readonly #irq: (level: boolean) => void;

  constructor(host: MemorySystem, onByte: (byte: number) => void, irq: (level: boolean) => void = () => {}) {
    this.#irq = irq;
    this.io = new MemoryRegion(host, {
      kind: "io",
      name: "serial",
      size: 8n,
      ops: {
        endianness: "little",
        valid: { minAccessSize: 1, maxAccessSize: 1 },
        read: (offset) => BigInt(this.#read(Number(offset))),
        write: (offset, value) => this.#write(Number(offset), Number(value) & 0xff, onByte),
      },
    });
  }

  #iir(): number {
    const fifo = (this.fcr & 1) !== 0 ? IIR_FIFO_ENABLED : 0;
    return ((this.ier & IER_THRI) !== 0 && this.#thrPending ? IIR_THRI : IIR_NO_INT) | fifo;
  }

  #update(): void {
    this.#irq((this.#iir() & IIR_NO_INT) === 0);
  }

  #read(offset: number): number {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case UART_RBR_THR:
        return dlab ? this.divider & 0xff : 0;
      case UART_IER:
        return dlab ? this.divider >> 8 : this.ier;
      case UART_IIR_FCR: {
        const iir = this.#iir();
        // Reading IIR acknowledges the transmitter-empty interrupt.
        if ((iir & 0x0f) === IIR_THRI) {
          this.#thrPending = false;
          this.#update();
        }
        return iir;
      }
      case UART_LCR:
        return this.lcr;
      case UART_MCR:
        return this.mcr;
      case UART_LSR:
        return LSR_THRE | LSR_TEMT;
      case UART_MSR:
        // Loopback wires DTR to DSR, RTS to CTS, OUT1 to RI and OUT2 to DCD.
        return (this.mcr & MCR_LOOP) !== 0
          ? ((this.mcr & 1) << 5) | ((this.mcr & 2) << 3) | ((this.mcr & 0x0c) << 4)
          : MSR_IDLE;
      default:
        return this.scr;
    }
  }

  #write(offset: number, value: number, onByte: (byte: number) => void): void {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case UART_RBR_THR:
        if (dlab) this.divider = (this.divider & 0xff00) | value;
        else {
          if ((this.mcr & MCR_LOOP) === 0) onByte(value);
          this.#thrPending = true;
          this.#update();
        }
        break;
      case UART_IER:
        if (dlab) this.divider = (this.divider & 0xff) | (value << 8);
        else {
          const rising = (value & IER_THRI) !== 0 && (this.ier & IER_THRI) === 0;
          this.ier = value & 0x0f;
          if (rising) this.#thrPending = true;
          this.#update();
        }
        break;
      case UART_IIR_FCR:
        this.fcr = value & 0xc9;
        break;
      case UART_LCR:
        this.lcr = value;
        break;
      case UART_MCR:
        this.mcr = value & 0x1f;
        break;
      case UART_SCR:
        this.scr = value;
        break;
      default:
        break;
    }
  }
}
