import { PcError } from "../errors.js";
import { type Aml, buffer, concat, le } from "./aml.js";

/**
 * ACPI resource descriptors (ACPI 6.x, section 6.4) for `_CRS` templates, laid out as QEMU's
 * aml-build.c lays them out: small items (IO, IRQNoFlags, DMA), large items (Memory32Fixed,
 * Word/DWord/QWord address spaces) and the end tag with a zero checksum.
 */

const END_TAG = Uint8Array.of(0x79, 0x00);

/** ResourceTemplate(): the descriptors and the end tag, as a Buffer. */
export function resourceTemplate(descriptors: readonly Aml[]): Aml {
  return buffer(concat([...descriptors, END_TAG]));
}

/** IO(Decode16, min, max, alignment, length). */
export function io(min: number, max: number, alignment: number, length: number): Aml {
  checkRange("IO", min, 0xffff);
  checkRange("IO", max, 0xffff);
  checkRange("IO", alignment, 0xff);
  checkRange("IO", length, 0xff);
  return concat([Uint8Array.of(0x47, 0x01), le(min, 2), le(max, 2), Uint8Array.of(alignment, length)]);
}

/** IRQNoFlags(irq): edge, active high, exclusive. */
export function irqNoFlags(irq: number): Aml {
  checkRange("IRQ", irq, 15);
  return concat([Uint8Array.of(0x22), le(1 << irq, 2)]);
}

/** DMA(Compatibility, NotBusMaster, Transfer8, channel), as QEMU's floppy declares it. */
export function dma(channel: number): Aml {
  checkRange("DMA", channel, 7);
  return Uint8Array.of(0x2a, 1 << channel, 0x00);
}

/** Memory32Fixed(ReadOnly | ReadWrite, base, length). */
export function memory32Fixed(base: number, length: number, writable: boolean): Aml {
  checkRange("Memory32Fixed", base, 0xffff_ffff);
  checkRange("Memory32Fixed", length, 0xffff_ffff);
  return concat([Uint8Array.of(0x86, 0x09, 0x00, writable ? 1 : 0), le(base, 4), le(length, 4)]);
}

/** Address space resource types. */
const RESOURCE_MEMORY = 0;
const RESOURCE_IO = 1;
const RESOURCE_BUS = 2;
/** General flags of a producer window with a fixed minimum and maximum (MinFixed, MaxFixed, PosDecode). */
const FIXED_WINDOW = 0x0c;
/** Type-specific flags: I/O EntireRange; memory read-write and (non)cacheable. */
export const IO_ENTIRE_RANGE = 0x03;
export const MEM_RW_CACHEABLE = 0x03;
export const MEM_RW_NON_CACHEABLE = 0x01;

/** A Word/DWord/QWord address space descriptor: granularity 0, no translation. */
function addressSpace(width: 2 | 4 | 8, resourceType: number, typeFlags: number, min: bigint, max: bigint): Aml {
  const limit = (1n << BigInt(8 * width)) - 1n;
  if (min < 0n || max < min || max > limit) {
    throw new PcError("E_PC_AML", `address space window 0x${min.toString(16)}-0x${max.toString(16)} is invalid`);
  }
  const tag = width === 2 ? 0x88 : width === 4 ? 0x87 : 0x8a;
  const body = concat([
    Uint8Array.of(resourceType, FIXED_WINDOW, typeFlags),
    le(0, width),
    le(min, width),
    le(max, width),
    le(0, width),
    le(max - min + 1n, width),
  ]);
  return concat([Uint8Array.of(tag), le(body.length, 2), body]);
}

export function wordBusNumber(min: number, max: number): Aml {
  return addressSpace(2, RESOURCE_BUS, 0, BigInt(min), BigInt(max));
}

export function wordIo(min: number, max: number): Aml {
  return addressSpace(2, RESOURCE_IO, IO_ENTIRE_RANGE, BigInt(min), BigInt(max));
}

export function dwordMemory(min: bigint, max: bigint, typeFlags: number): Aml {
  return addressSpace(4, RESOURCE_MEMORY, typeFlags, min, max);
}

export function qwordMemory(min: bigint, max: bigint, typeFlags: number): Aml {
  return addressSpace(8, RESOURCE_MEMORY, typeFlags, min, max);
}

function checkRange(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new PcError("E_PC_AML", `${what}: ${value} is outside 0..0x${max.toString(16)}`);
  }
}

/** Extended interrupt flags: consumer, level-triggered, active high, shared (PCI interrupt links). */
const INTERRUPT_CONSUMER_LEVEL_HIGH_SHARED = 0x09;

/** Interrupt(ResourceConsumer, Level, ActiveHigh, Shared){irqs}: the extended interrupt descriptor. */
export function interruptShared(irqs: readonly number[]): Aml {
  if (irqs.length < 1 || irqs.length > 255) throw new PcError("E_PC_AML", "Interrupt: 1..255 interrupts");
  for (const irq of irqs) checkRange("Interrupt", irq, 0xffff_ffff);
  const body = concat([Uint8Array.of(INTERRUPT_CONSUMER_LEVEL_HIGH_SHARED, irqs.length), ...irqs.map((i) => le(i, 4))]);
  return concat([Uint8Array.of(0x89), le(body.length, 2), body]);
}
