import { PcError } from "../errors.js";
import { type Aml, concat, nameString, withPkgLength } from "./aml.js";

/**
 * The AML operators QEMU's DSDT methods use beyond aml.ts's (ACPI 6.x, section 20.2.5),
 * encoded as aml-build.c encodes them: a missing target is the null name (0x00).
 */

const EXT_OP = 0x5b;
/** No target: the result is not stored (the null name). */
export const NO_TARGET = Uint8Array.of(0x00);
const op = (code: number, ...operands: Aml[]) => concat([Uint8Array.of(code), ...operands]);
const extOp = (code: number, ...operands: Aml[]) => concat([Uint8Array.of(EXT_OP, code), ...operands]);

export function arg(n: number): Aml {
  if (!Number.isInteger(n) || n < 0 || n > 6) throw new PcError("E_PC_AML", `Arg0..Arg6, got ${n}`);
  return Uint8Array.of(0x68 + n);
}

/** The Debug object. */
export const DEBUG = Uint8Array.of(EXT_OP, 0x31);

export const add = (a: Aml, b: Aml, target: Aml = NO_TARGET) => op(0x72, a, b, target);
export const subtract = (a: Aml, b: Aml, target: Aml = NO_TARGET) => op(0x74, a, b, target);
export const shiftLeft = (a: Aml, b: Aml, target: Aml = NO_TARGET) => op(0x79, a, b, target);
export const and = (a: Aml, b: Aml, target: Aml = NO_TARGET) => op(0x7b, a, b, target);
export const or = (a: Aml, b: Aml, target: Aml = NO_TARGET) => op(0x7d, a, b, target);
export const increment = (target: Aml) => op(0x75, target);
export const derefOf = (ref: Aml) => op(0x83, ref);
export const notify = (object: Aml, value: Aml) => op(0x86, object, value);
export const sizeOf = (object: Aml) => op(0x87, object);
export const index = (source: Aml, at: Aml, target: Aml = NO_TARGET) => op(0x88, source, at, target);
export const land = (a: Aml, b: Aml) => op(0x90, a, b);
export const lnot = (a: Aml) => op(0x92, a);
export const lless = (a: Aml, b: Aml) => op(0x95, a, b);
export const toBuffer = (value: Aml, target: Aml) => op(0x96, value, target);
export const toHexString = (value: Aml, target: Aml) => op(0x98, value, target);
export const breakOp = () => Uint8Array.of(0xa5);

export function createDWordField(source: Aml, byteIndex: Aml, fieldName: string): Aml {
  return op(0x8a, source, byteIndex, nameString(fieldName));
}

export function whileDo(predicate: Aml, body: readonly Aml[]): Aml {
  return withPkgLength([0xa2], [predicate, ...body]);
}

export function elseDo(body: readonly Aml[]): Aml {
  return withPkgLength([0xa1], body);
}

/** A Mutex at sync level 0. */
export function mutex(path: string): Aml {
  return extOp(0x01, nameString(path), Uint8Array.of(0));
}

/** Acquire(mutex, 0xffff): wait forever. */
export function acquire(mutexPath: string): Aml {
  return extOp(0x23, nameString(mutexPath), Uint8Array.of(0xff, 0xff));
}

export function release(mutexPath: string): Aml {
  return extOp(0x27, nameString(mutexPath));
}

/** A method call: the method's name, then its arguments. */
export function call(path: string, args: readonly Aml[] = []): Aml {
  return concat([nameString(path), ...args]);
}

/** Processor(name, id, no P_BLK): the ACPI 1.0 processor object QEMU declares CPUs with. */
export function processor(path: string, id: number, body: readonly Aml[]): Aml {
  if (!Number.isInteger(id) || id < 0 || id > 0xff) throw new PcError("E_PC_AML", `processor id 0..255, got ${id}`);
  return withPkgLength([EXT_OP, 0x83], [nameString(path), Uint8Array.of(id, 0, 0, 0, 0, 0), ...body]);
}
