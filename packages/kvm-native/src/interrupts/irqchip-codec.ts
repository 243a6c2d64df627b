import {
  IOAPIC_PINS,
  type IoapicRedirection,
  type IoapicState,
  type IrqchipId,
  type IrqchipState,
  PIC_STATE_FIELDS,
  type PicState,
} from "@memtopo/kvm";
import { FieldReader, viewOf } from "./fields.js";
import type { NativeIrqLayout } from "./layout.js";

const CHIP_IDS: Record<IrqchipId, number> = { "pic-master": 0, "pic-slave": 1, ioapic: 2 };

/** The kernel's chip id of a chip name; EINVAL for anything else. */
export function irqchipId(chip: unknown, operation: string): number {
  if (typeof chip !== "string" || !Object.hasOwn(CHIP_IDS, chip)) {
    throw new FieldReader(operation).fail("chip", 'must be "pic-master", "pic-slave" or "ioapic"');
  }
  return CHIP_IDS[chip as IrqchipId];
}

// The IOAPIC redirection entry as the hardware (and the kernel's bit-field union) lays it out.
const RTE_BITS = [
  ["vector", 0, 8],
  ["deliveryMode", 8, 3],
  ["destMode", 11, 1],
  ["deliveryStatus", 12, 1],
  ["polarity", 13, 1],
  ["remoteIrr", 14, 1],
  ["triggerMode", 15, 1],
  ["mask", 16, 1],
  ["destId", 56, 8],
] as const;
const RTE_RESERVED_SHIFT = 17n;
const RTE_RESERVED_BITS = 39;

export function decodeIrqchip(chip: IrqchipId, bytes: Uint8Array, layout: NativeIrqLayout): IrqchipState {
  const view = viewOf(bytes);
  if (chip === "ioapic") return { chip, ioapic: decodeIoapic(view, layout) };
  const pic = {} as PicState;
  for (const name of PIC_STATE_FIELDS) pic[name] = view.getUint8(layout.pic[name]);
  return { chip, pic };
}

function decodeIoapic(view: DataView, layout: NativeIrqLayout): IoapicState {
  const l = layout.ioapic;
  const redirections: IoapicRedirection[] = [];
  for (let pin = 0; pin < IOAPIC_PINS; pin++) {
    const bits = view.getBigUint64(l.redirtbl + pin * 8, true);
    const entry = {
      reserved: (bits >> RTE_RESERVED_SHIFT) & ((1n << BigInt(RTE_RESERVED_BITS)) - 1n),
    } as IoapicRedirection;
    for (const [name, shift, width] of RTE_BITS)
      entry[name] = Number((bits >> BigInt(shift)) & ((1n << BigInt(width)) - 1n));
    redirections.push(entry);
  }
  return {
    baseAddress: view.getBigUint64(l.baseAddress, true),
    ioregsel: view.getUint32(l.ioregsel, true),
    id: view.getUint32(l.id, true),
    irr: view.getUint32(l.irr, true),
    redirections,
  };
}

/** Validates a whole IrqchipState and encodes it as the chip union KVM_SET_IRQCHIP takes. */
export function encodeIrqchip(
  state: IrqchipState,
  layout: NativeIrqLayout,
  operation: string,
): { chipId: number; bytes: Uint8Array } {
  const r = new FieldReader(operation);
  const s = r.object(state, "state");
  const chipId = irqchipId(s.chip, operation);
  const bytes = new Uint8Array(layout.chipSize);
  const view = viewOf(bytes);
  if (s.chip === "ioapic") {
    encodeIoapic(r, r.object(s.ioapic, "state.ioapic"), view, layout);
  } else {
    const pic = r.object(s.pic, "state.pic");
    for (const name of PIC_STATE_FIELDS) view.setUint8(layout.pic[name], r.uint(pic[name], 8, `state.pic.${name}`));
  }
  return { chipId, bytes };
}

function encodeIoapic(r: FieldReader, io: Record<string, unknown>, view: DataView, layout: NativeIrqLayout): void {
  const l = layout.ioapic;
  view.setBigUint64(l.baseAddress, r.big(io.baseAddress, 64, "state.ioapic.baseAddress"), true);
  view.setUint32(l.ioregsel, r.uint(io.ioregsel, 32, "state.ioapic.ioregsel"), true);
  view.setUint32(l.id, r.uint(io.id, 32, "state.ioapic.id"), true);
  view.setUint32(l.irr, r.uint(io.irr, 32, "state.ioapic.irr"), true);
  const table = r.array(io.redirections, IOAPIC_PINS, "state.ioapic.redirections");
  for (let pin = 0; pin < IOAPIC_PINS; pin++) {
    const path = `state.ioapic.redirections[${pin}]`;
    const entry = r.object(table[pin], path);
    let bits = r.big(entry.reserved, RTE_RESERVED_BITS, `${path}.reserved`) << RTE_RESERVED_SHIFT;
    for (const [name, shift, width] of RTE_BITS)
      bits |= BigInt(r.uint(entry[name], width, `${path}.${name}`)) << BigInt(shift);
    view.setBigUint64(l.redirtbl + pin * 8, bits, true);
  }
}
