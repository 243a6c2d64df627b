import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";

/** Status register bits (8042). */
const STAT_OBF = 0x01;
const STAT_SELFTEST = 0x04;
const STAT_CMD = 0x08;
const STAT_UNLOCKED = 0x10;
const STAT_MOUSE_OBF = 0x20;
/** Controller mode ("command byte") bits. */
const MODE_KBD_INT = 0x01;
const MODE_MOUSE_INT = 0x02;
const MODE_DISABLE_KBD = 0x10;
const MODE_DISABLE_MOUSE = 0x20;
/** Controller commands SeaBIOS and Linux use (0xf0-0xff pulse output port bits; 0xfe resets). */
const CCMD_READ_MODE = 0x20;
const CCMD_WRITE_MODE = 0x60;
const CCMD_MOUSE_DISABLE = 0xa7;
const CCMD_MOUSE_ENABLE = 0xa8;
const CCMD_TEST_MOUSE = 0xa9;
const CCMD_SELF_TEST = 0xaa;
const CCMD_KBD_TEST = 0xab;
const CCMD_KBD_DISABLE = 0xad;
const CCMD_KBD_ENABLE = 0xae;
const CCMD_READ_INPORT = 0xc0;
const CCMD_READ_OUTPORT = 0xd0;
const CCMD_WRITE_OUTPORT = 0xd1;
const CCMD_WRITE_OBUF = 0xd2;
const CCMD_WRITE_AUX_OBUF = 0xd3;
const CCMD_WRITE_MOUSE = 0xd4;
const CCMD_DISABLE_A20 = 0xdd;
const CCMD_ENABLE_A20 = 0xdf;
/** Output port: bit 0 low holds the CPU in reset, bit 1 is A20. */
const OUTPORT_RESET = 0x01;
const OUTPORT_A20 = 0x02;
/** PS/2 device replies. */
const REPLY_ACK = 0xfa;
const REPLY_POR = 0xaa;
const REPLY_RESEND = 0xfe;

/** One byte waiting in the controller's output buffer and which port it came from. */
interface Queued {
  readonly byte: number;
  readonly mouse: boolean;
}

/**
 * The i8042 keyboard controller with a PS/2 keyboard and mouse (QEMU's hw/input/pckbd.c and
 * ps2.c) as far as firmware probes it: controller self tests, the mode byte, the output port
 * (and command 0xfe, pulse reset, which asks the board to reset), and the devices' replies
 * to reset, enable/disable, scan-code set, LEDs, rate and identify. No keys are ever typed.
 * IRQ 1 (keyboard) and 12 (mouse) follow a full output buffer when the mode enables them.
 */
export class Pckbd {
  mode = MODE_KBD_INT | MODE_MOUSE_INT;
  status = STAT_CMD | STAT_UNLOCKED;
  outport = OUTPORT_RESET | OUTPORT_A20;
  readonly data: MemoryRegion;
  readonly cmd: MemoryRegion;
  readonly #queue: Queued[] = [];
  /** A controller command waiting for its data byte. */
  #pendingCommand = 0;
  /** A keyboard command waiting for its parameter (0xed, 0xf0, 0xf3). */
  #kbdParam = 0;
  #mouseParam = 0;
  #scancodeSet = 2;
  readonly #onReset: (reason: string) => void;
  readonly #irq: (line: 1 | 12, level: boolean) => void;

  constructor(host: MemorySystem, onReset: (reason: string) => void, irq: (line: 1 | 12, level: boolean) => void) {
    this.#onReset = onReset;
    this.#irq = irq;
    const byteOps = (read: () => number, write: (v: number) => void) => ({
      endianness: "little" as const,
      valid: { minAccessSize: 1, maxAccessSize: 1 },
      read: () => BigInt(read()),
      write: (_offset: bigint, value: bigint) => write(Number(value & 0xffn)),
    });
    this.data = new MemoryRegion(host, {
      kind: "io",
      name: "i8042-data",
      size: 1n,
      ops: byteOps(
        () => this.#readData(),
        (v) => this.#writeData(v),
      ),
    });
    this.cmd = new MemoryRegion(host, {
      kind: "io",
      name: "i8042-cmd",
      size: 1n,
      ops: byteOps(
        () => this.#readStatus(),
        (v) => this.#writeCommand(v),
      ),
    });
  }

  #readStatus(): number {
    const head = this.#queue[0];
    let status = this.status & ~(STAT_OBF | STAT_MOUSE_OBF);
    if (head !== undefined) status |= head.mouse ? STAT_OBF | STAT_MOUSE_OBF : STAT_OBF;
    return status;
  }

  #readData(): number {
    const head = this.#queue.shift();
    this.#updateIrq();
    return head?.byte ?? 0;
  }

  #push(byte: number, mouse = false): void {
    this.#queue.push({ byte, mouse });
    this.#updateIrq();
  }

  #updateIrq(): void {
    const head = this.#queue[0];
    this.#irq(1, head !== undefined && !head.mouse && (this.mode & MODE_KBD_INT) !== 0);
    this.#irq(12, head?.mouse === true && (this.mode & MODE_MOUSE_INT) !== 0);
  }

  #writeCommand(value: number): void {
    this.status |= STAT_CMD;
    if (value >= 0xf0) {
      // Pulse output port bits: a low bit 0 resets the CPU.
      if ((value & 1) === 0) this.#onReset("keyboard controller reset (0xfe to port 0x64)");
      return;
    }
    switch (value) {
      case CCMD_READ_MODE:
        this.#push(this.mode);
        break;
      case CCMD_WRITE_MODE:
      case CCMD_WRITE_OUTPORT:
      case CCMD_WRITE_OBUF:
      case CCMD_WRITE_AUX_OBUF:
      case CCMD_WRITE_MOUSE:
        this.#pendingCommand = value;
        break;
      case CCMD_MOUSE_DISABLE:
        this.mode |= MODE_DISABLE_MOUSE;
        break;
      case CCMD_MOUSE_ENABLE:
        this.mode &= ~MODE_DISABLE_MOUSE;
        break;
      case CCMD_TEST_MOUSE:
      case CCMD_KBD_TEST:
        this.#push(0x00);
        break;
      case CCMD_SELF_TEST:
        this.status |= STAT_SELFTEST;
        this.#push(0x55);
        break;
      case CCMD_KBD_DISABLE:
        this.mode |= MODE_DISABLE_KBD;
        this.#updateIrq();
        break;
      case CCMD_KBD_ENABLE:
        this.mode &= ~MODE_DISABLE_KBD;
        this.#updateIrq();
        break;
      case CCMD_READ_INPORT:
        this.#push(0x80);
        break;
      case CCMD_READ_OUTPORT:
        this.#push(this.outport);
        break;
      case CCMD_ENABLE_A20:
        this.outport |= OUTPORT_A20;
        break;
      case CCMD_DISABLE_A20:
        this.outport &= ~OUTPORT_A20;
        break;
      default:
        break;
    }
  }

  #writeData(value: number): void {
    this.status &= ~STAT_CMD;
    const pending = this.#pendingCommand;
    this.#pendingCommand = 0;
    switch (pending) {
      case CCMD_WRITE_MODE:
        this.mode = value;
        this.#updateIrq();
        return;
      case CCMD_WRITE_OUTPORT:
        this.outport = value;
        if ((value & OUTPORT_RESET) === 0) this.#onReset("keyboard controller output port reset bit");
        return;
      case CCMD_WRITE_OBUF:
        this.#push(value);
        return;
      case CCMD_WRITE_AUX_OBUF:
        this.#push(value, true);
        return;
      case CCMD_WRITE_MOUSE:
        this.#mouseCommand(value);
        return;
      default:
        this.#keyboardCommand(value);
    }
  }

  /** ps2_write_keyboard: a command, or the parameter of the previous one. */
  #keyboardCommand(value: number): void {
    const param = this.#kbdParam;
    if (param !== 0) {
      this.#kbdParam = 0;
      if (param === 0xf0 && value === 0) {
        this.#push(REPLY_ACK);
        this.#push(this.#scancodeSet);
        return;
      }
      if (param === 0xf0 && value >= 1 && value <= 3) this.#scancodeSet = value;
      this.#push(REPLY_ACK);
      return;
    }
    switch (value) {
      case 0xff:
        this.#scancodeSet = 2;
        this.#push(REPLY_ACK);
        this.#push(REPLY_POR);
        break;
      case 0xf2:
        this.#push(REPLY_ACK);
        this.#push(0xab);
        this.#push(0x41);
        break;
      case 0xee:
        this.#push(0xee);
        break;
      case 0xed:
      case 0xf0:
      case 0xf3:
        this.#kbdParam = value;
        this.#push(REPLY_ACK);
        break;
      case 0xf4:
      case 0xf5:
      case 0xf6:
        this.#push(REPLY_ACK);
        break;
      default:
        this.#push(REPLY_RESEND);
    }
  }

  /** ps2_write_mouse, enough for a probe: reset answers ACK, self-test passed, ID 0. */
  #mouseCommand(value: number): void {
    if (this.#mouseParam !== 0) {
      this.#mouseParam = 0;
      this.#push(REPLY_ACK, true);
      return;
    }
    switch (value) {
      case 0xff:
        this.#push(REPLY_ACK, true);
        this.#push(REPLY_POR, true);
        this.#push(0x00, true);
        break;
      case 0xf2:
        this.#push(REPLY_ACK, true);
        this.#push(0x00, true);
        break;
      case 0xe8:
      case 0xf3:
        this.#mouseParam = value;
        this.#push(REPLY_ACK, true);
        break;
      default:
        this.#push(REPLY_ACK, true);
    }
  }
}
