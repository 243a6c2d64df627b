import { leBytes } from "@memtopo/region-tree";
import { PcError } from "../errors.js";

/**
 * A small ACPI Machine Language encoder (ACPI 6.x, section 20) for the board's DSDT: each
 * function returns the bytes of one term, encoded as QEMU's hw/acpi/aml-build.c encodes it
 * (shortest integer and package-length forms), so objects the board shares with QEMU's DSDT
 * come out byte for byte the same.
 */
export type Aml = Uint8Array;

const ZERO_OP = 0x00;
const ONE_OP = 0x01;
const NAME_OP = 0x08;
const BYTE_PREFIX = 0x0a;
const WORD_PREFIX = 0x0b;
const DWORD_PREFIX = 0x0c;
const STRING_PREFIX = 0x0d;
const QWORD_PREFIX = 0x0e;
const SCOPE_OP = 0x10;
const BUFFER_OP = 0x11;
const PACKAGE_OP = 0x12;
const METHOD_OP = 0x14;
const DUAL_NAME_PREFIX = 0x2e;
const MULTI_NAME_PREFIX = 0x2f;
const EXT_OP = 0x5b;
const OPREGION_OP = 0x80;
const FIELD_OP = 0x81;
const DEVICE_OP = 0x82;
const LOCAL0_OP = 0x60;
const STORE_OP = 0x70;
const SHIFT_RIGHT_OP = 0x7a;
const LOR_OP = 0x91;
const LEQUAL_OP = 0x93;
const LGREATER_OP = 0x94;
const IF_OP = 0xa0;
const RETURN_OP = 0xa4;
/** The largest PkgLength (28 bits). */
const PKG_LENGTH_MAX = 0x0fff_ffff;

export function concat(parts: readonly Aml[]): Aml {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * PkgLength: the byte count is chosen from `length` alone (as aml-build.c does), then the
 * value counts those bytes too when `inclSelf` (packages) and not for field units (bits).
 */
function pkgLength(length: number, inclSelf = true): Aml {
  if (!Number.isInteger(length) || length < 0) throw new PcError("E_PC_AML", `bad AML length ${length}`);
  const bytes = length + 1 < 1 << 6 ? 1 : length + 2 < 1 << 12 ? 2 : length + 3 < 1 << 20 ? 3 : 4;
  const value = inclSelf ? length + bytes : length;
  if (value > PKG_LENGTH_MAX) throw new PcError("E_PC_AML", `an AML length of ${length} exceeds PkgLength's 28 bits`);
  if (bytes === 1) return Uint8Array.of(value);
  const out = new Uint8Array(bytes);
  out[0] = ((bytes - 1) << 6) | (value & 0x0f);
  for (let i = 1; i < bytes; i++) out[i] = (value >> (4 + 8 * (i - 1))) & 0xff;
  return out;
}

/** `op PkgLength body`. */
function pkg(op: readonly number[], body: readonly Aml[]): Aml {
  const inner = concat(body);
  return concat([Uint8Array.from(op), pkgLength(inner.length), inner]);
}

const NAME_SEG = /^[A-Z_][A-Z0-9_]{0,3}$/;
const NAME_PAD = 0x5f;

/** ASCII text's bytes (the callers checked it is ASCII): a DSDT encodes thousands of names. */
function ascii(text: string, out: Uint8Array, at: number): void {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
}

/** A NameSeg: up to four of A-Z, 0-9, _ (first not a digit), padded with '_'. */
function nameSeg(seg: string): Aml {
  if (!NAME_SEG.test(seg)) throw new PcError("E_PC_AML", `"${seg}" is not an AML NameSeg`);
  const out = new Uint8Array(4).fill(NAME_PAD);
  ascii(seg, out, 0);
  return out;
}

/** A NameString: `\` or `^` prefixes, then one, two (DualNamePath) or more (MultiNamePath) segments. */
export function nameString(path: string): Aml {
  const prefix = /^(\\|\^*)/.exec(path)![0];
  const rest = path.slice(prefix.length);
  if (rest === "") {
    const out = new Uint8Array(prefix.length + 1);
    ascii(prefix, out, 0);
    out[prefix.length] = ZERO_OP;
    return out;
  }
  const segs = rest.split(".");
  for (const seg of segs) {
    if (!NAME_SEG.test(seg)) throw new PcError("E_PC_AML", `"${seg}" is not an AML NameSeg`);
  }
  if (segs.length > 255) throw new PcError("E_PC_AML", `"${path}" has more than 255 segments`);
  const lead = segs.length === 1 ? 0 : segs.length === 2 ? 1 : 2;
  const out = new Uint8Array(prefix.length + lead + 4 * segs.length).fill(NAME_PAD);
  ascii(prefix, out, 0);
  let at = prefix.length;
  if (lead === 1) out[at++] = DUAL_NAME_PREFIX;
  else if (lead === 2) {
    out[at++] = MULTI_NAME_PREFIX;
    out[at++] = segs.length;
  }
  for (const seg of segs) {
    ascii(seg, out, at);
    at += 4;
  }
  return out;
}

/** An integer in its shortest form: Zero, One, Byte/Word/DWord/QWord constants. */
export function int(value: number | bigint): Aml {
  const v = BigInt(value);
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new PcError("E_PC_AML", `AML integer out of range: ${value}`);
  if (v === 0n) return Uint8Array.of(ZERO_OP);
  if (v === 1n) return Uint8Array.of(ONE_OP);
  const [prefix, bytes] =
    v <= 0xffn
      ? [BYTE_PREFIX, 1]
      : v <= 0xffffn
        ? [WORD_PREFIX, 2]
        : v <= 0xffff_ffffn
          ? [DWORD_PREFIX, 4]
          : [QWORD_PREFIX, 8];
  return concat([Uint8Array.of(prefix), le(v, bytes)]);
}

export function string(text: string): Aml {
  if ([...text].some((c) => c === "\0" || c.charCodeAt(0) > 0x7f))
    throw new PcError("E_PC_AML", `AML strings are ASCII without NUL: "${text}"`);
  const out = new Uint8Array(text.length + 2);
  out[0] = STRING_PREFIX;
  ascii(text, out, 1);
  return out;
}

/** A compressed EISA ID ("PNP0A03") as the DWord an `_HID` holds. */
export function eisaId(id: string): Aml {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new PcError("E_PC_AML", `"${id}" is not an EISA ID`);
  const c = (i: number) => id.charCodeAt(i) - 0x40;
  const hex = Number.parseInt(id.slice(3), 16);
  const vendor = (c(0) << 10) | (c(1) << 5) | c(2);
  // Stored big-endian within the little-endian DWord.
  return concat([Uint8Array.of(DWORD_PREFIX), Uint8Array.of(vendor >> 8, vendor & 0xff, hex >> 8, hex & 0xff)]);
}

export function name(path: string, value: Aml): Aml {
  return concat([Uint8Array.of(NAME_OP), nameString(path), value]);
}

export function scope(path: string, body: readonly Aml[]): Aml {
  return pkg([SCOPE_OP], [nameString(path), ...body]);
}

export function device(path: string, body: readonly Aml[]): Aml {
  return pkg([EXT_OP, DEVICE_OP], [nameString(path), ...body]);
}

/** MethodFlags bit 3: the method runs under the method's own mutex. */
const METHOD_SERIALIZED = 0x08;

/** A method with `args` arguments (0-7), serialized or not, sync level 0. */
export function method(path: string, args: number, body: readonly Aml[], serialized = false): Aml {
  if (!Number.isInteger(args) || args < 0 || args > 7) throw new PcError("E_PC_AML", `method args 0..7, got ${args}`);
  return pkg([METHOD_OP], [nameString(path), Uint8Array.of(args | (serialized ? METHOD_SERIALIZED : 0)), ...body]);
}

export function buffer(data: Aml): Aml {
  return pkg([BUFFER_OP], [int(data.length), data]);
}

/** Package(count){elements}: `count` may exceed the elements given (the rest are uninitialized). */
export function packageOf(elements: readonly Aml[], count = elements.length): Aml {
  if (!Number.isInteger(count) || count < elements.length || count > 255) {
    throw new PcError("E_PC_AML", `a Package holds ${elements.length}..255 elements, got a count of ${count}`);
  }
  return pkg([PACKAGE_OP], [Uint8Array.of(count), ...elements]);
}

/** OperationRegion space identifiers. */
export const REGION_SPACE = { systemMemory: 0, systemIo: 1, pciConfig: 2 } as const;

export function operationRegion(path: string, space: number, offset: number | bigint, length: number | bigint): Aml {
  return concat([Uint8Array.of(EXT_OP, OPREGION_OP), nameString(path), Uint8Array.of(space), int(offset), int(length)]);
}

/** Field access types, lock rule and update rules (FieldFlags bits 0-3, 4 and 5-6). */
export const FIELD_ACCESS = { any: 0, byte: 1, word: 2, dword: 3 } as const;
export const FIELD_LOCK = 0x10;
export const FIELD_WRITE_AS_ZEROS = 0x40;

/** A Field of units of `bits` each, in order; a unit named null is skipped bits (a ReservedField). */
export function field(region: string, flags: number, units: readonly { name: string | null; bits: number }[]): Aml {
  const list = units.map((u) =>
    concat([u.name === null ? Uint8Array.of(0) : nameSeg(u.name), pkgLength(encodedBits(u.bits), false)]),
  );
  return pkg([EXT_OP, FIELD_OP], [nameString(region), Uint8Array.of(flags), ...list]);
}

/** A field unit's width is a PkgLength whose value is the bit count (not a byte count). */
function encodedBits(bits: number): number {
  if (!Number.isInteger(bits) || bits < 1 || bits > PKG_LENGTH_MAX) {
    throw new PcError("E_PC_AML", `a field unit is 1..2^28-1 bits, got ${bits}`);
  }
  return bits;
}

export function local(n: number): Aml {
  if (!Number.isInteger(n) || n < 0 || n > 7) throw new PcError("E_PC_AML", `Local0..Local7, got ${n}`);
  return Uint8Array.of(LOCAL0_OP + n);
}

/** Store(source, target); a string names an object. */
export function store(source: Aml, target: Aml): Aml {
  return concat([Uint8Array.of(STORE_OP), source, target]);
}

export function ref(path: string): Aml {
  return nameString(path);
}

export function shiftRight(value: Aml, count: Aml, target: Aml): Aml {
  return concat([Uint8Array.of(SHIFT_RIGHT_OP), value, count, target]);
}

export function lor(a: Aml, b: Aml): Aml {
  return concat([Uint8Array.of(LOR_OP), a, b]);
}

export function lequal(a: Aml, b: Aml): Aml {
  return concat([Uint8Array.of(LEQUAL_OP), a, b]);
}

export function lgreater(a: Aml, b: Aml): Aml {
  return concat([Uint8Array.of(LGREATER_OP), a, b]);
}

export function ifThen(predicate: Aml, body: readonly Aml[]): Aml {
  return pkg([IF_OP], [predicate, ...body]);
}

/** `op PkgLength body`, for the operators of aml-ops.ts. */
export function withPkgLength(op: readonly number[], body: readonly Aml[]): Aml {
  return pkg(op, body);
}

export function returnOf(value: Aml): Aml {
  return concat([Uint8Array.of(RETURN_OP), value]);
}

export function le(value: number | bigint, bytes: number): Aml {
  return leBytes(BigInt(value), bytes);
}
