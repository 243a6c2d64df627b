import { loadLeNumber } from "@memtopo/region-tree";
import {
  CF,
  DF,
  FLAGS_FIXED,
  group1,
  IF,
  incDec,
  logic,
  mask,
  OF,
  type OpSize,
  PF,
  SF,
  shift,
  signExtend,
  sub,
  TF,
  ZF,
} from "./alu.js";
import { type CpuBus, EmulationFailure } from "./bus.js";
import { decodeModRm, Fetcher, getReg, type Prefixes, readRm, setReg, writeRm } from "./operands.js";
import { type CpuState, CS, DS, ES, SS } from "./state.js";

/** How one step ended: the instruction completed, or it was HLT (completed too: IP is past it). */
export type StepResult = "ok" | "hlt";

/** Flags POPF/IRET may change in real mode (IOPL and NT included; VM, RF and VIP/VIF are not reachable). */
const WRITABLE_FLAGS = 0x7fd5;
/** Vectors of the exceptions the interpreter raises. */
const DE = 0;
const GP = 13;

/** CR0, CR2, CR3, CR4 by the ModRM reg field of MOV to/from CRn (CR1 does not exist). */
const CONTROL_REGISTERS: readonly ("cr0" | "cr2" | "cr3" | "cr4" | undefined)[] = [
  "cr0",
  undefined,
  "cr2",
  "cr3",
  "cr4",
];

const AX = 0;
const CX = 1;
const DX = 2;
const SP = 4;
const SI = 6;
const DI = 7;

/**
 * A 16-bit real-mode x86 interpreter (with the 0x66/0x67 prefixes for 32-bit operands and
 * addresses): the mock vCPU's execution engine. One {@link step} runs one instruction, or
 * one iteration of a REP string instruction, against a {@link CpuBus}; an instruction it
 * does not know is an {@link EmulationFailure}.
 */
export class Interpreter {
  readonly #cpu: CpuState;
  readonly #bus: CpuBus;
  readonly #fetch: Fetcher;
  readonly #idtBase: () => number;

  constructor(cpu: CpuState, bus: CpuBus, idtBase: () => number) {
    this.#cpu = cpu;
    this.#bus = bus;
    this.#fetch = new Fetcher(cpu, bus);
    this.#idtBase = idtBase;
  }

  /**
   * Delivers interrupt `vector` the real-mode way: FLAGS, CS and IP are pushed, IF and TF
   * cleared, and CS:IP loaded from the vector's entry of the interrupt vector table.
   */
  interrupt(vector: number): void {
    const cpu = this.#cpu;
    const entry = this.#idtBase() + vector * 4;
    const ip = this.#bus.read(entry, 2);
    const cs = this.#bus.read(entry + 2, 2);
    this.#push(2, cpu.eflags & 0xffff);
    this.#push(2, cpu.selector[CS]!);
    this.#push(2, cpu.eip & 0xffff);
    cpu.eflags &= ~(IF | TF);
    cpu.loadSegment(CS, cs);
    cpu.eip = ip;
  }

  step(): StepResult {
    const cpu = this.#cpu;
    const f = this.#fetch;
    const at = cpu.base[CS]! + cpu.eip;
    const startIp = cpu.eip;
    f.start();
    const shadowBefore = cpu.interruptShadow;
    cpu.interruptShadow = false;
    const p: Prefixes = {
      segment: -1,
      opSize: cpu.codeIs32 ? 4 : 2,
      addrSize: cpu.codeIs32 ? 4 : 2,
      rep: 0,
    };
    let op = f.u8();
    for (;;) {
      if (op === 0x26 || op === 0x2e || op === 0x36 || op === 0x3e) p.segment = (op >> 3) & 3;
      else if (op === 0x64 || op === 0x65) p.segment = op - 0x60;
      else if (op === 0x66) p.opSize = cpu.codeIs32 ? 2 : 4;
      else if (op === 0x67) p.addrSize = cpu.codeIs32 ? 2 : 4;
      else if (op === 0xf2 || op === 0xf3) p.rep = op;
      else if (op !== 0xf0) break; // LOCK: one CPU runs at a time here, every access is atomic
      op = f.u8();
    }
    const fail = (why: string): never => {
      throw new EmulationFailure(`${why} at 0x${at.toString(16)}`, at, f.bytes);
    };
    const w = p.opSize;

    // The ALU block: 00-3f with low three bits 0-5 (ADD OR ADC SBB AND SUB XOR CMP).
    if (op < 0x40 && (op & 7) < 6) {
      const kind = op >> 3;
      const form = op & 7;
      const size: OpSize = (form & 1) === 0 ? 1 : w;
      if (form >= 4) {
        const imm = f.imm(size);
        const r = group1(kind, getReg(cpu, AX, size), imm, size, cpu.eflags);
        if (kind !== 7) setReg(cpu, AX, size, r.value);
        cpu.eflags = r.flags;
        return "ok";
      }
      const m = decodeModRm(cpu, f, p);
      const rmValue = readRm(cpu, this.#bus, m, size);
      const regValue = getReg(cpu, m.reg, size);
      if (form < 2) {
        const r = group1(kind, rmValue, regValue, size, cpu.eflags);
        if (kind !== 7) writeRm(cpu, this.#bus, m, size, r.value);
        cpu.eflags = r.flags;
      } else {
        const r = group1(kind, regValue, rmValue, size, cpu.eflags);
        if (kind !== 7) setReg(cpu, m.reg, size, r.value);
        cpu.eflags = r.flags;
      }
      return "ok";
    }

    switch (op) {
      case 0x06:
      case 0x0e:
      case 0x16:
      case 0x1e:
        this.#push(w, cpu.selector[op >> 3]!);
        return "ok";
      case 0x07:
      case 0x17:
      case 0x1f: {
        const sel = this.#pop(w) & 0xffff;
        cpu.loadSegment(op >> 3, sel);
        if (op === 0x17) cpu.interruptShadow = !shadowBefore;
        return "ok";
      }
      case 0x0f:
        return this.#twoByte(p, fail);
      default:
        break;
    }

    if (op >= 0x40 && op <= 0x4f) {
      const r = incDec(getReg(cpu, op & 7, w), op < 0x48 ? 1 : -1, w, cpu.eflags);
      setReg(cpu, op & 7, w, r.value);
      cpu.eflags = r.flags;
      return "ok";
    }
    if (op >= 0x50 && op <= 0x57) {
      // PUSH SP pushes SP as it was before the push (8086 behaviour aside).
      this.#push(w, getReg(cpu, op & 7, w));
      return "ok";
    }
    if (op >= 0x58 && op <= 0x5f) {
      const v = this.#pop(w);
      setReg(cpu, op & 7, w, v);
      return "ok";
    }
    if (op >= 0x70 && op <= 0x7f) {
      const d = f.i8();
      if (this.#condition(op & 0xf)) this.#jumpRelative(d, w);
      return "ok";
    }
    if (op >= 0x91 && op <= 0x97) {
      const a = getReg(cpu, AX, w);
      setReg(cpu, AX, w, getReg(cpu, op & 7, w));
      setReg(cpu, op & 7, w, a);
      return "ok";
    }
    if (op >= 0xb0 && op <= 0xb7) {
      setReg(cpu, op & 7, 1, f.u8());
      return "ok";
    }
    if (op >= 0xb8 && op <= 0xbf) {
      setReg(cpu, op & 7, w, f.imm(w));
      return "ok";
    }

    switch (op) {
      case 0x60: {
        const sp = getReg(cpu, SP, w);
        for (let r = 0; r < 8; r++) this.#push(w, r === SP ? sp : getReg(cpu, r, w));
        return "ok";
      }
      case 0x61:
        for (let r = 7; r >= 0; r--) {
          const v = this.#pop(w);
          if (r !== SP) setReg(cpu, r, w, v);
        }
        return "ok";
      case 0x68:
        this.#push(w, f.imm(w));
        return "ok";
      case 0x6a:
        this.#push(w, signExtend(f.u8(), 1) & mask(w));
        return "ok";
      case 0x6c:
      case 0x6d:
        return this.#ins(p, op === 0x6c ? 1 : w);
      case 0x6e:
      case 0x6f:
        return this.#outs(p, op === 0x6e ? 1 : w);
      case 0x80:
      case 0x81:
      case 0x83: {
        const size: OpSize = op === 0x80 ? 1 : w;
        const m = decodeModRm(cpu, f, p);
        const a = readRm(cpu, this.#bus, m, size);
        const b = op === 0x83 ? signExtend(f.u8(), 1) & mask(size) : f.imm(size);
        const r = group1(m.reg, a, b, size, cpu.eflags);
        if (m.reg !== 7) writeRm(cpu, this.#bus, m, size, r.value);
        cpu.eflags = r.flags;
        return "ok";
      }
      case 0x84:
      case 0x85: {
        const size: OpSize = op === 0x84 ? 1 : w;
        const m = decodeModRm(cpu, f, p);
        cpu.eflags = logic(readRm(cpu, this.#bus, m, size) & getReg(cpu, m.reg, size), size, cpu.eflags).flags;
        return "ok";
      }
      case 0x86:
      case 0x87: {
        const size: OpSize = op === 0x86 ? 1 : w;
        const m = decodeModRm(cpu, f, p);
        const a = readRm(cpu, this.#bus, m, size);
        writeRm(cpu, this.#bus, m, size, getReg(cpu, m.reg, size));
        setReg(cpu, m.reg, size, a);
        return "ok";
      }
      case 0x88:
      case 0x89: {
        const size: OpSize = op === 0x88 ? 1 : w;
        const m = decodeModRm(cpu, f, p);
        writeRm(cpu, this.#bus, m, size, getReg(cpu, m.reg, size));
        return "ok";
      }
      case 0x8a:
      case 0x8b: {
        const size: OpSize = op === 0x8a ? 1 : w;
        const m = decodeModRm(cpu, f, p);
        setReg(cpu, m.reg, size, readRm(cpu, this.#bus, m, size));
        return "ok";
      }
      case 0x8c: {
        const m = decodeModRm(cpu, f, p);
        if (m.reg > 5) fail("MOV from a segment register that does not exist");
        writeRm(cpu, this.#bus, m, m.mod === 3 ? w : 2, cpu.selector[m.reg]!);
        return "ok";
      }
      case 0x8d: {
        const m = decodeModRm(cpu, f, p);
        if (m.mod === 3) fail("LEA with a register operand");
        setReg(cpu, m.reg, w, m.offset & mask(w));
        return "ok";
      }
      case 0x8e: {
        const m = decodeModRm(cpu, f, p);
        if (m.reg === CS || m.reg > 5) fail("MOV to CS or to a segment register that does not exist");
        cpu.loadSegment(m.reg, readRm(cpu, this.#bus, m, 2));
        if (m.reg === SS) cpu.interruptShadow = !shadowBefore;
        return "ok";
      }
      case 0x8f: {
        const m = decodeModRm(cpu, f, p);
        if (m.reg !== 0) fail("an undefined form of 0x8f");
        writeRm(cpu, this.#bus, m, w, this.#pop(w));
        return "ok";
      }
      case 0x90:
        return "ok"; // NOP (PAUSE with REP)
      case 0x98:
        if (w === 2) setReg(cpu, AX, 2, signExtend(getReg(cpu, AX, 1), 1));
        else setReg(cpu, AX, 4, signExtend(getReg(cpu, AX, 2), 2));
        return "ok";
      case 0x99: {
        const negative = (getReg(cpu, AX, w) & (w === 2 ? 0x8000 : 0x8000_0000)) !== 0;
        setReg(cpu, DX, w, negative ? mask(w) : 0);
        return "ok";
      }
      case 0x9a: {
        const ip = f.imm(w);
        const cs = f.u16();
        this.#push(w, cpu.selector[CS]!);
        this.#push(w, cpu.eip);
        cpu.loadSegment(CS, cs);
        cpu.eip = ip;
        return "ok";
      }
      case 0x9c:
        this.#push(w, cpu.eflags & (w === 2 ? 0xffff : 0x00fc_ffff));
        return "ok";
      case 0x9d:
        this.#setFlags(this.#pop(w), w);
        return "ok";
      case 0x9e: {
        const keep = cpu.eflags & ~(SF | ZF | 0x10 | PF | CF);
        cpu.eflags = keep | (getReg(cpu, 4, 1) & (SF | ZF | 0x10 | PF | CF)) | FLAGS_FIXED;
        return "ok";
      }
      case 0x9f:
        setReg(cpu, 4, 1, cpu.eflags & 0xff);
        return "ok";
      case 0xa0:
      case 0xa1:
      case 0xa2:
      case 0xa3: {
        const size: OpSize = (op & 1) === 0 ? 1 : w;
        const offset = f.imm(p.addrSize);
        const addr = cpu.base[p.segment >= 0 ? p.segment : DS]! + offset;
        if (op < 0xa2) setReg(cpu, AX, size, this.#bus.read(addr, size));
        else this.#bus.write(addr, size, getReg(cpu, AX, size));
        return "ok";
      }
      case 0xa4:
      case 0xa5:
      case 0xa6:
      case 0xa7:
      case 0xaa:
      case 0xab:
      case 0xac:
      case 0xad:
      case 0xae:
      case 0xaf:
        return this.#string(op, p, (op & 1) === 0 ? 1 : w);
      case 0xa8:
      case 0xa9: {
        const size: OpSize = op === 0xa8 ? 1 : w;
        cpu.eflags = logic(getReg(cpu, AX, size) & f.imm(size), size, cpu.eflags).flags;
        return "ok";
      }
      case 0xc0:
      case 0xc1:
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3: {
        const size: OpSize = (op & 1) === 0 ? 1 : w;
        const m = decodeModRm(cpu, f, p);
        const count = op <= 0xc1 ? f.u8() : op <= 0xd1 ? 1 : getReg(cpu, CX, 1);
        const r = shift(m.reg, readRm(cpu, this.#bus, m, size), count, size, cpu.eflags);
        writeRm(cpu, this.#bus, m, size, r.value);
        cpu.eflags = r.flags;
        return "ok";
      }
      case 0xc2:
      case 0xc3: {
        const release = op === 0xc2 ? f.u16() : 0;
        cpu.eip = this.#pop(w);
        setReg(cpu, SP, 2, getReg(cpu, SP, 2) + release);
        return "ok";
      }
      case 0xc6:
      case 0xc7: {
        const size: OpSize = op === 0xc6 ? 1 : w;
        const m = decodeModRm(cpu, f, p);
        if (m.reg !== 0) fail(`an undefined form of 0x${op.toString(16)}`);
        writeRm(cpu, this.#bus, m, size, f.imm(size));
        return "ok";
      }
      case 0xca:
      case 0xcb: {
        const release = op === 0xca ? f.u16() : 0;
        const ip = this.#pop(w);
        const cs = this.#pop(w);
        cpu.loadSegment(CS, cs);
        cpu.eip = ip;
        setReg(cpu, SP, 2, getReg(cpu, SP, 2) + release);
        return "ok";
      }
      case 0xcc:
        this.interrupt(3);
        return "ok";
      case 0xcd:
        this.interrupt(f.u8());
        return "ok";
      case 0xcf: {
        const ip = this.#pop(w);
        const cs = this.#pop(w);
        const flags = this.#pop(w);
        cpu.loadSegment(CS, cs);
        cpu.eip = ip;
        this.#setFlags(flags, w);
        return "ok";
      }
      case 0xe2:
      case 0xe1:
      case 0xe0: {
        const d = f.i8();
        const count = (getReg(cpu, CX, p.addrSize) - 1) & mask(p.addrSize);
        setReg(cpu, CX, p.addrSize, count);
        const zf = (cpu.eflags & ZF) !== 0;
        if (count !== 0 && (op === 0xe2 || (op === 0xe1 ? zf : !zf))) this.#jumpRelative(d, w);
        return "ok";
      }
      case 0xe3: {
        const d = f.i8();
        if (getReg(cpu, CX, p.addrSize) === 0) this.#jumpRelative(d, w);
        return "ok";
      }
      case 0xe4:
      case 0xe5: {
        const size: OpSize = op === 0xe4 ? 1 : w;
        setReg(cpu, AX, size, this.#bus.in(f.u8(), size));
        return "ok";
      }
      case 0xe6:
      case 0xe7: {
        const size: OpSize = op === 0xe6 ? 1 : w;
        this.#bus.out(f.u8(), size, getReg(cpu, AX, size));
        return "ok";
      }
      case 0xe8: {
        const d = signExtend(f.imm(w), w);
        this.#push(w, cpu.eip);
        this.#jumpRelative(d, w);
        return "ok";
      }
      case 0xe9:
        this.#jumpRelative(signExtend(f.imm(w), w), w);
        return "ok";
      case 0xea: {
        const ip = f.imm(w);
        const cs = f.u16();
        cpu.loadSegment(CS, cs);
        cpu.eip = ip;
        return "ok";
      }
      case 0xeb:
        this.#jumpRelative(f.i8(), w);
        return "ok";
      case 0xec:
      case 0xed: {
        const size: OpSize = op === 0xec ? 1 : w;
        setReg(cpu, AX, size, this.#bus.in(getReg(cpu, DX, 2), size));
        return "ok";
      }
      case 0xee:
      case 0xef: {
        const size: OpSize = op === 0xee ? 1 : w;
        this.#bus.out(getReg(cpu, DX, 2), size, getReg(cpu, AX, size));
        return "ok";
      }
      case 0xf4:
        return "hlt";
      case 0xf5:
        cpu.eflags ^= CF;
        return "ok";
      case 0xf6:
      case 0xf7:
        return this.#group3(p, op === 0xf6 ? 1 : w, fail);
      case 0xf8:
        cpu.eflags &= ~CF;
        return "ok";
      case 0xf9:
        cpu.eflags |= CF;
        return "ok";
      case 0xfa:
        cpu.eflags &= ~IF;
        return "ok";
      case 0xfb:
        // STI holds interrupts off for one more instruction, unless they were already enabled.
        if ((cpu.eflags & IF) === 0) cpu.interruptShadow = true;
        cpu.eflags |= IF;
        return "ok";
      case 0xfc:
        cpu.eflags &= ~DF;
        return "ok";
      case 0xfd:
        cpu.eflags |= DF;
        return "ok";
      case 0xfe:
      case 0xff:
        return this.#group45(op, p, fail);
      default:
        return fail(`opcode 0x${op.toString(16)} (IP 0x${startIp.toString(16)}) is not emulated`);
    }
  }

  #twoByte(p: Prefixes, fail: (why: string) => never): StepResult {
    const cpu = this.#cpu;
    const f = this.#fetch;
    const op = f.u8();
    const w = p.opSize;
    if (op >= 0x80 && op <= 0x8f) {
      const d = signExtend(f.imm(w), w);
      if (this.#condition(op & 0xf)) this.#jumpRelative(d, w);
      return "ok";
    }
    if (op >= 0x90 && op <= 0x9f) {
      const m = decodeModRm(cpu, f, p);
      writeRm(cpu, this.#bus, m, 1, this.#condition(op & 0xf) ? 1 : 0);
      return "ok";
    }
    switch (op) {
      case 0x01: {
        const m = decodeModRm(cpu, f, p);
        if (m.mod === 3 || (m.reg !== 2 && m.reg !== 3)) return fail("a group 7 instruction other than LGDT/LIDT");
        const limit = this.#bus.read(m.addr, 2);
        // A 16-bit operand loads 24 bits of base.
        const base = this.#bus.read(m.addr + 2, 4) & (w === 4 ? 0xffff_ffff : 0xff_ffff);
        cpu.loadTable(m.reg === 2 ? "gdt" : "idt", BigInt(base >>> 0), limit);
        return "ok";
      }
      case 0x20:
      case 0x22: {
        const m = decodeModRm(cpu, f, p);
        const name = CONTROL_REGISTERS[m.reg];
        if (name === undefined) return fail(`MOV with CR${m.reg}`);
        if (op === 0x20) cpu.gpr[m.rm] = Number(cpu.control(name) & 0xffff_ffffn);
        else cpu.setControl(name, BigInt(cpu.gpr[m.rm]!));
        return "ok";
      }
      case 0x31: {
        const tsc = this.#bus.rdmsr(0x10) ?? 0n;
        cpu.gpr[AX] = Number(tsc & 0xffff_ffffn);
        cpu.gpr[DX] = Number(tsc >> 32n);
        return "ok";
      }
      case 0x30: {
        const index = cpu.gpr[CX]!;
        const value = (BigInt(cpu.gpr[DX]!) << 32n) | BigInt(cpu.gpr[AX]!);
        if (!this.#bus.wrmsr(index, value)) this.#fault(GP);
        return "ok";
      }
      case 0x32: {
        const index = cpu.gpr[CX]!;
        const value = this.#bus.rdmsr(index);
        if (value === null) {
          this.#fault(GP);
          return "ok";
        }
        cpu.gpr[AX] = Number(value & 0xffff_ffffn);
        cpu.gpr[DX] = Number(value >> 32n);
        return "ok";
      }
      case 0xa0:
      case 0xa8:
        this.#push(w, cpu.selector[op === 0xa0 ? 4 : 5]!);
        return "ok";
      case 0xa1:
      case 0xa9:
        cpu.loadSegment(op === 0xa1 ? 4 : 5, this.#pop(w) & 0xffff);
        return "ok";
      case 0xa2: {
        const r = this.#bus.cpuid(cpu.gpr[AX]!, cpu.gpr[CX]!);
        cpu.gpr[AX] = r[0] >>> 0;
        cpu.gpr[3] = r[1] >>> 0;
        cpu.gpr[CX] = r[2] >>> 0;
        cpu.gpr[DX] = r[3] >>> 0;
        return "ok";
      }
      case 0xb6:
      case 0xb7:
      case 0xbe:
      case 0xbf: {
        const size: OpSize = (op & 1) === 0 ? 1 : 2;
        const m = decodeModRm(cpu, f, p);
        const v = readRm(cpu, this.#bus, m, size);
        setReg(cpu, m.reg, w, op >= 0xbe ? signExtend(v, size) & mask(w) : v);
        return "ok";
      }
      default:
        return fail(`opcode 0x0f 0x${op.toString(16)} is not emulated`);
    }
  }

  #group3(p: Prefixes, size: OpSize, fail: (why: string) => never): StepResult {
    const cpu = this.#cpu;
    const m = decodeModRm(cpu, this.#fetch, p);
    const a = readRm(cpu, this.#bus, m, size);
    switch (m.reg) {
      case 0:
      case 1:
        cpu.eflags = logic(a & this.#fetch.imm(size), size, cpu.eflags).flags;
        return "ok";
      case 2:
        writeRm(cpu, this.#bus, m, size, ~a & mask(size));
        return "ok";
      case 3: {
        const r = sub(0, a, 0, size, cpu.eflags);
        writeRm(cpu, this.#bus, m, size, r.value);
        cpu.eflags = r.flags;
        return "ok";
      }
      case 4:
      case 5:
        this.#multiply(a, size, m.reg === 5);
        return "ok";
      case 6:
      case 7:
        this.#divide(a, size, m.reg === 7);
        return "ok";
      default:
        return fail("an undefined form of group 3");
    }
  }

  #multiply(b: number, size: OpSize, signed: boolean): void {
    const cpu = this.#cpu;
    const bits = BigInt(size * 8);
    const a = getReg(cpu, AX, size);
    const x = signed ? BigInt(signExtend(a, size)) : BigInt(a);
    const y = signed ? BigInt(signExtend(b, size)) : BigInt(b);
    const product = BigInt.asUintN(Number(bits) * 2, x * y);
    const low = Number(product & ((1n << bits) - 1n));
    const high = Number(product >> bits);
    if (size === 1) setReg(cpu, AX, 2, Number(product));
    else {
      setReg(cpu, AX, size, low);
      setReg(cpu, DX, size, high);
    }
    // CF = OF = the upper half carries information (is not just the sign extension of the lower).
    const upperMatters = signed ? BigInt.asIntN(Number(bits), BigInt(low)) !== x * y : high !== 0;
    cpu.eflags = (cpu.eflags & ~(CF | OF)) | (upperMatters ? CF | OF : 0);
  }

  #divide(divisor: number, size: OpSize, signed: boolean): void {
    const cpu = this.#cpu;
    const bits = BigInt(size * 8);
    const wide =
      size === 1 ? BigInt(getReg(cpu, AX, 2)) : (BigInt(getReg(cpu, DX, size)) << bits) | BigInt(getReg(cpu, AX, size));
    const dividend = signed ? BigInt.asIntN(Number(bits) * 2, wide) : wide;
    const d = signed ? BigInt(signExtend(divisor, size)) : BigInt(divisor);
    if (d === 0n) {
      this.#fault(DE);
      return;
    }
    const q = dividend / d;
    const r = dividend % d;
    const fits = signed ? BigInt.asIntN(Number(bits), q) === q : q >> bits === 0n;
    if (!fits) {
      this.#fault(DE);
      return;
    }
    const qu = Number(BigInt.asUintN(Number(bits), q));
    const ru = Number(BigInt.asUintN(Number(bits), r));
    if (size === 1) setReg(cpu, AX, 2, qu | (ru << 8));
    else {
      setReg(cpu, AX, size, qu);
      setReg(cpu, DX, size, ru);
    }
  }

  /** A fault: IP goes back to the faulting instruction, which the handler returns to. */
  #fault(vector: number): void {
    const cpu = this.#cpu;
    cpu.eip = this.#instructionIp();
    this.interrupt(vector);
  }

  #instructionIp(): number {
    const cpu = this.#cpu;
    const mask16 = cpu.codeIs32 ? 0xffff_ffff : 0xffff;
    return (cpu.eip - this.#fetch.bytes.length) & mask16;
  }

  #group45(op: number, p: Prefixes, fail: (why: string) => never): StepResult {
    const cpu = this.#cpu;
    const w = p.opSize;
    const m = decodeModRm(cpu, this.#fetch, p);
    if (op === 0xfe && m.reg > 1) fail("an undefined form of 0xfe");
    const size: OpSize = op === 0xfe ? 1 : w;
    switch (m.reg) {
      case 0:
      case 1: {
        const r = incDec(readRm(cpu, this.#bus, m, size), m.reg === 0 ? 1 : -1, size, cpu.eflags);
        writeRm(cpu, this.#bus, m, size, r.value);
        cpu.eflags = r.flags;
        return "ok";
      }
      case 2: {
        const target = readRm(cpu, this.#bus, m, w);
        this.#push(w, cpu.eip);
        cpu.eip = target;
        return "ok";
      }
      case 3:
      case 5: {
        if (m.mod === 3) fail("a far transfer with a register operand");
        const ip = this.#bus.read(m.addr, w);
        const cs = this.#bus.read(m.addr + w, 2);
        if (m.reg === 3) {
          this.#push(w, cpu.selector[CS]!);
          this.#push(w, cpu.eip);
        }
        cpu.loadSegment(CS, cs);
        cpu.eip = ip;
        return "ok";
      }
      case 4:
        cpu.eip = readRm(cpu, this.#bus, m, w);
        return "ok";
      case 6:
        this.#push(w, readRm(cpu, this.#bus, m, w));
        return "ok";
      default:
        return fail("an undefined form of 0xff");
    }
  }

  /** Whether the condition of Jcc/SETcc code `cc` holds. */
  #condition(cc: number): boolean {
    const fl = this.#cpu.eflags;
    const cf = (fl & CF) !== 0;
    const zf = (fl & ZF) !== 0;
    const sf = (fl & SF) !== 0;
    const of = (fl & OF) !== 0;
    const pf = (fl & PF) !== 0;
    let r: boolean;
    switch (cc >> 1) {
      case 0:
        r = of;
        break;
      case 1:
        r = cf;
        break;
      case 2:
        r = zf;
        break;
      case 3:
        r = cf || zf;
        break;
      case 4:
        r = sf;
        break;
      case 5:
        r = pf;
        break;
      case 6:
        r = sf !== of;
        break;
      default:
        r = zf || sf !== of;
    }
    return (cc & 1) === 0 ? r : !r;
  }

  #jumpRelative(displacement: number, size: 2 | 4): void {
    const cpu = this.#cpu;
    cpu.eip = (cpu.eip + displacement) & mask(size);
    if (size === 4) cpu.eip >>>= 0;
  }

  #push(size: 2 | 4, value: number): void {
    const cpu = this.#cpu;
    const sp = (getReg(cpu, SP, 2) - size) & 0xffff;
    setReg(cpu, SP, 2, sp);
    this.#bus.write(cpu.base[SS]! + sp, size, value & mask(size));
  }

  #pop(size: 2 | 4): number {
    const cpu = this.#cpu;
    const sp = getReg(cpu, SP, 2);
    const v = this.#bus.read(cpu.base[SS]! + sp, size);
    setReg(cpu, SP, 2, (sp + size) & 0xffff);
    return v;
  }

  #setFlags(value: number, size: 2 | 4): void {
    const cpu = this.#cpu;
    const writable = size === 2 ? WRITABLE_FLAGS : WRITABLE_FLAGS | 0x0024_0000; // AC and ID
    cpu.eflags = ((cpu.eflags & ~writable) | (value & writable) | FLAGS_FIXED) >>> 0;
  }

  /** The registers a string instruction steps, and the step. */
  #stringStep(size: OpSize): number {
    return (this.#cpu.eflags & DF) !== 0 ? -size : size;
  }

  #advance(index: number, p: Prefixes, delta: number): void {
    const cpu = this.#cpu;
    setReg(cpu, index, p.addrSize, (getReg(cpu, index, p.addrSize) + delta) & mask(p.addrSize));
  }

  /**
   * A REP prefix runs one iteration per step, leaving IP on the instruction until CX is 0, so
   * that interrupts and exits come between iterations as on hardware.
   */
  #repeat(p: Prefixes): { readonly done: boolean; readonly last: () => boolean } {
    const cpu = this.#cpu;
    if (p.rep === 0) return { done: false, last: () => true };
    const count = getReg(cpu, CX, p.addrSize);
    if (count === 0) return { done: true, last: () => true };
    setReg(cpu, CX, p.addrSize, count - 1);
    return { done: false, last: () => count - 1 === 0 };
  }

  #again(): void {
    this.#cpu.eip = this.#instructionIp();
  }

  #string(op: number, p: Prefixes, size: OpSize): StepResult {
    const cpu = this.#cpu;
    const rep = this.#repeat(p);
    if (rep.done) return "ok";
    const step = this.#stringStep(size);
    const src = () => cpu.base[p.segment >= 0 ? p.segment : DS]! + getReg(cpu, SI, p.addrSize);
    const dst = () => cpu.base[ES]! + getReg(cpu, DI, p.addrSize);
    let compares = false;
    switch (op & 0xfe) {
      case 0xa4:
        this.#bus.write(dst(), size, this.#bus.read(src(), size));
        this.#advance(SI, p, step);
        this.#advance(DI, p, step);
        break;
      case 0xa6: {
        const a = this.#bus.read(src(), size);
        const b = this.#bus.read(dst(), size);
        cpu.eflags = sub(a, b, 0, size, cpu.eflags).flags;
        this.#advance(SI, p, step);
        this.#advance(DI, p, step);
        compares = true;
        break;
      }
      case 0xaa:
        this.#bus.write(dst(), size, getReg(cpu, AX, size));
        this.#advance(DI, p, step);
        break;
      case 0xac:
        setReg(cpu, AX, size, this.#bus.read(src(), size));
        this.#advance(SI, p, step);
        break;
      default: {
        const b = this.#bus.read(dst(), size);
        cpu.eflags = sub(getReg(cpu, AX, size), b, 0, size, cpu.eflags).flags;
        this.#advance(DI, p, step);
        compares = true;
      }
    }
    if (p.rep !== 0 && !rep.last()) {
      // REPE/REPNE also stop on the compare's ZF.
      const zf = (cpu.eflags & ZF) !== 0;
      const stop = compares && (p.rep === 0xf3 ? !zf : zf);
      if (!stop) this.#again();
    }
    return "ok";
  }

  #ins(p: Prefixes, size: OpSize): StepResult {
    const cpu = this.#cpu;
    const port = getReg(cpu, DX, 2);
    const step = this.#stringStep(size);
    if (p.rep === 0) {
      this.#bus.write(cpu.base[ES]! + getReg(cpu, DI, p.addrSize), size, this.#bus.in(port, size));
      this.#advance(DI, p, step);
      return "ok";
    }
    const count = getReg(cpu, CX, p.addrSize);
    if (count === 0) return "ok";
    // KVM reads ahead as many elements as fit before the end of the destination page.
    const dst = cpu.base[ES]! + getReg(cpu, DI, p.addrSize);
    const room = step > 0 ? (4096 - (dst % 4096)) / size : ((dst % 4096) + size) / size;
    const n = Math.max(1, Math.min(count, Math.floor(room)));
    const data = this.#bus.inString(port, size, n);
    for (let i = 0; i < n; i++) {
      this.#bus.write(cpu.base[ES]! + getReg(cpu, DI, p.addrSize), size, loadLeNumber(data, i * size, size));
      this.#advance(DI, p, step);
    }
    setReg(cpu, CX, p.addrSize, count - n);
    if (count - n !== 0) this.#again();
    return "ok";
  }

  #outs(p: Prefixes, size: OpSize): StepResult {
    const cpu = this.#cpu;
    const rep = this.#repeat(p);
    if (rep.done) return "ok";
    const src = cpu.base[p.segment >= 0 ? p.segment : DS]! + getReg(cpu, SI, p.addrSize);
    this.#bus.out(getReg(cpu, DX, 2), size, this.#bus.read(src, size));
    this.#advance(SI, p, this.#stringStep(size));
    if (p.rep !== 0 && !rep.last()) this.#again();
    return "ok";
  }
}
