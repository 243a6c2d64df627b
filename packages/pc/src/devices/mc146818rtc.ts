import { MemoryRegion } from "@memtopo/region-tree";
import type { MemorySystem } from "memtopo";

export const RTC_IOPORT = 0x70n;
export const RTC_SECONDS = 0x00;
export const RTC_REG_A = 0x0a;
export const RTC_REG_B = 0x0b;
export const RTC_REG_C = 0x0c;
export const RTC_REG_D = 0x0d;
export const RTC_CENTURY = 0x32;
export const RTC_IBM_PS2_CENTURY = 0x37;
const REG_B_24H = 0x02;
const REG_B_DM_BINARY = 0x04;
const REG_D_VRT = 0x80;
/** Divider 010 (32.768 kHz) and rate 0110 (1024 Hz), the PC's power-on register A. */
const REG_A_RESET = 0x26;
/** The time fields: seconds, minutes, hours, day of week, day, month, year. */
const TIME_FIELDS = [0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09] as const;

/** Milliseconds since the epoch, in the guest's view of the wall clock. */
export type WallClock = () => number;

/**
 * The MC146818 RTC and its CMOS RAM (QEMU's hw/rtc/mc146818rtc.c): index port 0x70 (bit 7
 * is the NMI mask, not part of the index) and data port 0x71; the time registers follow the
 * wall clock (UTC, as QEMU's default `-rtc base=utc`), in BCD or binary and 12/24-hour as
 * register B says; writing a time field moves the clock. Register C clears when read.
 */
export class Mc146818Rtc {
  readonly cmos = new Uint8Array(128);
  index = 0;
  /** What the guest set the clock to, relative to the host clock. */
  #offsetMs = 0;
  readonly #clock: WallClock;
  readonly io: MemoryRegion;
  readonly indexIo: MemoryRegion;

  constructor(host: MemorySystem, clock: WallClock) {
    this.#clock = clock;
    const ops = {
      endianness: "little" as const,
      valid: { minAccessSize: 1, maxAccessSize: 1 },
      read: (offset: bigint) => BigInt(offset === 0n ? 0xff : this.#readData()),
      write: (offset: bigint, value: bigint) => {
        if (offset === 0n) this.index = Number(value) & 0x7f;
        else this.#writeData(Number(value) & 0xff);
      },
    };
    this.io = new MemoryRegion(host, { kind: "io", name: "rtc", size: 2n, ops });
    this.indexIo = new MemoryRegion(host, { kind: "io", name: "rtc-index", size: 1n, ops });
    this.io.addSubregion(0n, this.indexIo);
    this.cmos[RTC_REG_A] = REG_A_RESET;
    this.cmos[RTC_REG_B] = REG_B_24H;
    this.cmos[RTC_REG_D] = REG_D_VRT;
    const year = new Date(this.#clock()).getUTCFullYear();
    this.cmos[RTC_CENTURY] = this.#encode(Math.floor(year / 100));
    this.cmos[RTC_IBM_PS2_CENTURY] = this.cmos[RTC_CENTURY]!;
  }

  /** rtc_set_memory: what the board stores for firmware (RAM sizes, boot order, ...). */
  setMemory(addr: number, value: number): void {
    this.cmos[addr] = value & 0xff;
  }

  #now(): Date {
    return new Date(this.#clock() + this.#offsetMs);
  }

  #encode(value: number): number {
    return (this.cmos[RTC_REG_B]! & REG_B_DM_BINARY) !== 0 ? value : Math.floor(value / 10) * 16 + (value % 10);
  }

  #decode(value: number): number {
    return (this.cmos[RTC_REG_B]! & REG_B_DM_BINARY) !== 0 ? value : (value >> 4) * 10 + (value & 0x0f);
  }

  #timeField(addr: number, now: Date): number {
    switch (addr) {
      case 0x00:
        return this.#encode(now.getUTCSeconds());
      case 0x02:
        return this.#encode(now.getUTCMinutes());
      case 0x04: {
        const hours = now.getUTCHours();
        if ((this.cmos[RTC_REG_B]! & REG_B_24H) !== 0) return this.#encode(hours);
        const pm = hours >= 12 ? 0x80 : 0;
        return this.#encode(hours % 12 === 0 ? 12 : hours % 12) | pm;
      }
      case 0x06:
        return this.#encode(now.getUTCDay() + 1);
      case 0x07:
        return this.#encode(now.getUTCDate());
      case 0x08:
        return this.#encode(now.getUTCMonth() + 1);
      default:
        return this.#encode(now.getUTCFullYear() % 100);
    }
  }

  #readData(): number {
    const addr = this.index;
    if ((TIME_FIELDS as readonly number[]).includes(addr)) return this.#timeField(addr, this.#now());
    const value = this.cmos[addr]!;
    if (addr === RTC_REG_C) this.cmos[RTC_REG_C] = 0;
    return value;
  }

  #writeData(value: number): void {
    const addr = this.index;
    if (addr === RTC_REG_C || addr === RTC_REG_D) return;
    if (!(TIME_FIELDS as readonly number[]).includes(addr)) {
      this.cmos[addr] = value;
      return;
    }
    const now = this.#now();
    const fields = {
      s: now.getUTCSeconds(),
      m: now.getUTCMinutes(),
      h: now.getUTCHours(),
      d: now.getUTCDate(),
      mo: now.getUTCMonth(),
      y: now.getUTCFullYear(),
    };
    const v = this.#decode(value & 0x7f);
    if (addr === 0x00) fields.s = v;
    else if (addr === 0x02) fields.m = v;
    else if (addr === 0x04)
      fields.h = (this.cmos[RTC_REG_B]! & REG_B_24H) !== 0 ? v : (v % 12) + (value & 0x80 ? 12 : 0);
    else if (addr === 0x07) fields.d = v;
    else if (addr === 0x08) fields.mo = v - 1;
    else if (addr === 0x09) fields.y = Math.floor(fields.y / 100) * 100 + v;
    const set = Date.UTC(fields.y, fields.mo, fields.d, fields.h, fields.m, fields.s);
    this.#offsetMs += set - (now.getTime() - now.getUTCMilliseconds());
  }
}
