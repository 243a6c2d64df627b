import type { OpSize } from "./alu.js";
import type { CpuBus } from "./bus.js";
import { type CpuState, DS, SS } from "./state.js";

/** The prefixes of one instruction. */
export interface Prefixes {
  /** Segment override (ES..GS), or -1. */
  segment: number;
  /** Operand size: 2 or 4 bytes after the 0x66 prefix has been applied. */
  opSize: 2 | 4;
  /** Address size: 2 or 4 bytes after the 0x67 prefix has been applied. */
  addrSize: 2 | 4;
  /** 0xf3 (REP/REPE), 0xf2 (REPNE) or 0. */
  rep: number;
}

/** A decoded ModRM operand: a register (index 0-7) or a linear address. */
export interface ModRm {
  readonly mod: number;
  readonly reg: number;
  readonly rm: number;
  /** Linear address of the memory operand (when mod !== 3). */
  readonly addr: number;
  /** The operand's offset in its segment (what LEA loads). */
  readonly offset: number;
}

/** Fetches instruction bytes from CS:IP, advancing IP and keeping what it fetched. */
export class Fetcher {
  readonly #cpu: CpuState;
  readonly #bus: CpuBus;
  readonly bytes: number[] = [];
  #ipMask = 0xffff;

  constructor(cpu: CpuState, bus: CpuBus) {
    this.#cpu = cpu;
    this.#bus = bus;
  }

  start(): void {
    this.bytes.length = 0;
    this.#ipMask = this.#cpu.codeIs32 ? 0xffff_ffff : 0xffff;
  }

  u8(): number {
    const cpu = this.#cpu;
    const b = this.#bus.fetch(cpu.base[1]! + cpu.eip);
    cpu.eip = ((cpu.eip + 1) & this.#ipMask) >>> 0;
    this.bytes.push(b);
    return b;
  }

  i8(): number {
    return (this.u8() << 24) >> 24;
  }

  u16(): number {
    return this.u8() | (this.u8() << 8);
  }

  u32(): number {
    return (this.u16() | (this.u16() << 16)) >>> 0;
  }

  imm(size: OpSize): number {
    return size === 1 ? this.u8() : size === 2 ? this.u16() : this.u32();
  }
}

export function getReg(cpu: CpuState, index: number, size: OpSize): number {
  if (size === 4) return cpu.gpr[index]!;
  if (size === 2) return cpu.gpr[index]! & 0xffff;
  // AL CL DL BL AH CH DH BH
  return index < 4 ? cpu.gpr[index]! & 0xff : (cpu.gpr[index - 4]! >>> 8) & 0xff;
}

export function setReg(cpu: CpuState, index: number, size: OpSize, value: number): void {
  if (size === 4) cpu.gpr[index] = value >>> 0;
  else if (size === 2) cpu.gpr[index] = ((cpu.gpr[index]! & 0xffff_0000) | (value & 0xffff)) >>> 0;
  else if (index < 4) cpu.gpr[index] = ((cpu.gpr[index]! & 0xffff_ff00) | (value & 0xff)) >>> 0;
  else cpu.gpr[index - 4] = ((cpu.gpr[index - 4]! & 0xffff_00ff) | ((value & 0xff) << 8)) >>> 0;
}

/** Decodes a ModRM byte (and SIB and displacement) into a register or a linear address. */
export function decodeModRm(cpu: CpuState, fetch: Fetcher, prefixes: Prefixes): ModRm {
  const byte = fetch.u8();
  const mod = byte >> 6;
  const reg = (byte >> 3) & 7;
  const rm = byte & 7;
  if (mod === 3) return { mod, reg, rm, addr: 0, offset: 0 };
  let offset: number;
  let segment: number;
  if (prefixes.addrSize === 2) {
    [offset, segment] = address16(cpu, fetch, mod, rm);
  } else {
    [offset, segment] = address32(cpu, fetch, mod, rm);
  }
  if (prefixes.segment >= 0) segment = prefixes.segment;
  return { mod, reg, rm, addr: cpu.base[segment]! + offset, offset };
}

const BASE16: ReadonlyArray<readonly [number, number]> = [
  [3, 6], // BX+SI
  [3, 7], // BX+DI
  [5, 6], // BP+SI
  [5, 7], // BP+DI
  [6, -1], // SI
  [7, -1], // DI
  [5, -1], // BP (disp16 alone when mod is 0)
  [3, -1], // BX
];

function address16(cpu: CpuState, fetch: Fetcher, mod: number, rm: number): [number, number] {
  if (mod === 0 && rm === 6) return [fetch.u16(), DS];
  const [a, b] = BASE16[rm]!;
  let offset = (cpu.gpr[a]! & 0xffff) + (b >= 0 ? cpu.gpr[b]! & 0xffff : 0);
  if (mod === 1) offset += fetch.i8();
  else if (mod === 2) offset += fetch.u16();
  // Addressing through BP uses SS.
  return [offset & 0xffff, a === 5 ? SS : DS];
}

function address32(cpu: CpuState, fetch: Fetcher, mod: number, rm: number): [number, number] {
  let offset: number;
  let segment = DS;
  if (rm === 4) {
    const sib = fetch.u8();
    const scale = sib >> 6;
    const index = (sib >> 3) & 7;
    const base = sib & 7;
    if (base === 5 && mod === 0) offset = fetch.u32();
    else {
      offset = cpu.gpr[base]!;
      if (base === 4 || base === 5) segment = SS;
    }
    if (index !== 4) offset += cpu.gpr[index]! * (1 << scale);
  } else if (rm === 5 && mod === 0) {
    offset = fetch.u32();
  } else {
    offset = cpu.gpr[rm]!;
    if (rm === 5) segment = SS;
  }
  if (mod === 1) offset += fetch.i8();
  else if (mod === 2) offset += fetch.u32() | 0;
  return [offset >>> 0, segment];
}

export function readRm(cpu: CpuState, bus: CpuBus, m: ModRm, size: OpSize): number {
  return m.mod === 3 ? getReg(cpu, m.rm, size) : bus.read(m.addr, size);
}

export function writeRm(cpu: CpuState, bus: CpuBus, m: ModRm, size: OpSize, value: number): void {
  if (m.mod === 3) setReg(cpu, m.rm, size, value);
  else bus.write(m.addr, size, value);
}
