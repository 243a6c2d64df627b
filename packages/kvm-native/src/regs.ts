import { type DTable, KvmError, REG_NAMES, type Regs, SEGMENT_NAMES, type Segment, type Sregs } from "@memtopo/kvm";
import type { NativeLayout } from "./binding.js";

// The shapes live in @memtopo/kvm (both backends share them); re-exported for existing importers.
export type { DTable, Regs, Segment, Sregs };

const SEGMENT_BYTES = ["type", "present", "dpl", "db", "s", "l", "g", "avl", "unusable"] as const;
const CONTROL = ["cr0", "cr2", "cr3", "cr4", "cr8", "efer", "apicBase"] as const;
const INTERRUPT_BITMAP_BYTES = 32;
const U64_MAX = (1n << 64n) - 1n;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function bad(op: string, path: string, what: string): never {
  throw new KvmError("EINVAL", op, `${path} must be ${what}`);
}

function u64(op: string, path: string, value: unknown): bigint {
  if (typeof value !== "bigint" || value < 0n || value > U64_MAX) bad(op, path, "a bigint in [0, 2^64)");
  return value;
}

function uint(op: string, path: string, value: unknown, bits: 8 | 16 | 32): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value >= 2 ** bits) {
    bad(op, path, `an integer in [0, 2^${bits})`);
  }
  return value;
}

export function decodeRegs(layout: NativeLayout, bytes: Uint8Array): Regs {
  const v = view(bytes);
  const regs = {} as Regs;
  for (const name of REG_NAMES) regs[name] = v.getBigUint64(layout.regs[name], true);
  return regs;
}

export function encodeRegs(layout: NativeLayout, regs: Regs): Uint8Array {
  if (typeof regs !== "object" || regs === null) bad("setRegs", "regs", "an object");
  const bytes = new Uint8Array(layout.regs.size);
  const v = view(bytes);
  for (const name of REG_NAMES) v.setBigUint64(layout.regs[name], u64("setRegs", `regs.${name}`, regs[name]), true);
  return bytes;
}

export function decodeSregs(layout: NativeLayout, bytes: Uint8Array): Sregs {
  const v = view(bytes);
  const seg = layout.segment;
  const out = {} as Sregs;
  for (const name of SEGMENT_NAMES) {
    const at = layout.sregs[name];
    const s = {
      base: v.getBigUint64(at + seg.base, true),
      limit: v.getUint32(at + seg.limit, true),
      selector: v.getUint16(at + seg.selector, true),
    } as Segment;
    for (const field of SEGMENT_BYTES) s[field] = v.getUint8(at + seg[field]);
    out[name] = s;
  }
  for (const name of ["gdt", "idt"] as const) {
    const at = layout.sregs[name];
    out[name] = {
      base: v.getBigUint64(at + layout.dtable.base, true),
      limit: v.getUint16(at + layout.dtable.limit, true),
    };
  }
  for (const name of CONTROL) out[name] = v.getBigUint64(layout.sregs[name], true);
  const bitmapAt = layout.sregs.interruptBitmap;
  out.interruptBitmap = bytes.slice(bitmapAt, bitmapAt + INTERRUPT_BITMAP_BYTES);
  return out;
}

export function encodeSregs(layout: NativeLayout, sregs: Sregs): Uint8Array {
  const op = "setSregs";
  if (typeof sregs !== "object" || sregs === null) bad(op, "sregs", "an object");
  const bytes = new Uint8Array(layout.sregs.size);
  const v = view(bytes);
  const seg = layout.segment;
  for (const name of SEGMENT_NAMES) {
    const s = sregs[name];
    if (typeof s !== "object" || s === null) bad(op, `sregs.${name}`, "a segment object");
    const at = layout.sregs[name];
    v.setBigUint64(at + seg.base, u64(op, `sregs.${name}.base`, s.base), true);
    v.setUint32(at + seg.limit, uint(op, `sregs.${name}.limit`, s.limit, 32), true);
    v.setUint16(at + seg.selector, uint(op, `sregs.${name}.selector`, s.selector, 16), true);
    for (const field of SEGMENT_BYTES) v.setUint8(at + seg[field], uint(op, `sregs.${name}.${field}`, s[field], 8));
  }
  for (const name of ["gdt", "idt"] as const) {
    const t = sregs[name];
    if (typeof t !== "object" || t === null) bad(op, `sregs.${name}`, "a descriptor-table object");
    const at = layout.sregs[name];
    v.setBigUint64(at + layout.dtable.base, u64(op, `sregs.${name}.base`, t.base), true);
    v.setUint16(at + layout.dtable.limit, uint(op, `sregs.${name}.limit`, t.limit, 16), true);
  }
  for (const name of CONTROL) v.setBigUint64(layout.sregs[name], u64(op, `sregs.${name}`, sregs[name]), true);
  const bitmap = sregs.interruptBitmap;
  if (!(bitmap instanceof Uint8Array) || bitmap.length !== INTERRUPT_BITMAP_BYTES) {
    bad(op, "sregs.interruptBitmap", `a Uint8Array of ${INTERRUPT_BITMAP_BYTES} bytes`);
  }
  bytes.set(bitmap, layout.sregs.interruptBitmap);
  return bytes;
}
