import { type GsiRoute, KVM_MAX_IRQ_ROUTES, KvmError } from "@memtopo/kvm";
import { FieldReader, viewOf } from "./fields.js";
import { irqchipId } from "./irqchip-codec.js";
import type { NativeIrqLayout } from "./layout.js";

const CHIP_NAMES = ["pic-master", "pic-slave", "ioapic"] as const;

/**
 * Encodes a GSI routing table as `struct kvm_irq_routing_entry` back to back. Shapes and
 * field ranges are checked here; the kernel's rules on them (pins per chip, GSI bound,
 * one route per chip per GSI) are checked again by the addon before the ioctl.
 */
export function encodeRoutes(routes: readonly GsiRoute[], layout: NativeIrqLayout, operation: string): Uint8Array {
  const r = new FieldReader(operation);
  if (!Array.isArray(routes)) r.fail("routes", "must be an array");
  if (routes.length > KVM_MAX_IRQ_ROUTES) {
    throw new KvmError(
      "EINVAL",
      operation,
      `routes has ${routes.length} entries, the kernel takes at most ${KVM_MAX_IRQ_ROUTES}`,
    );
  }
  const l = layout.route;
  const c = layout.constants;
  const bytes = new Uint8Array(routes.length * l.size);
  const view = viewOf(bytes);
  for (let i = 0; i < routes.length; i++) {
    const path = `routes[${i}]`;
    const route = r.object(routes[i], path);
    const base = i * l.size;
    view.setUint32(base + l.gsi, r.uint(route.gsi, 32, `${path}.gsi`), true);
    if (route.type === "irqchip") {
      view.setUint32(base + l.type, c.IRQ_ROUTING_IRQCHIP, true);
      view.setUint32(base + l.irqchip, irqchipId(route.irqchip, operation), true);
      view.setUint32(base + l.pin, r.uint(route.pin, 32, `${path}.pin`), true);
    } else if (route.type === "msi") {
      const address = r.big(route.address, 64, `${path}.address`);
      view.setUint32(base + l.type, c.IRQ_ROUTING_MSI, true);
      view.setUint32(base + l.msiAddressLo, Number(address & 0xffff_ffffn), true);
      view.setUint32(base + l.msiAddressHi, Number(address >> 32n), true);
      view.setUint32(base + l.msiData, r.uint(route.data, 32, `${path}.data`), true);
      if (route.devid !== undefined) {
        view.setUint32(base + l.flags, c.MSI_VALID_DEVID, true);
        view.setUint32(base + l.msiDevid, r.uint(route.devid, 32, `${path}.devid`), true);
      }
    } else {
      r.fail(`${path}.type`, 'must be "irqchip" or "msi"');
    }
  }
  return bytes;
}

/** The inverse of {@link encodeRoutes}, for entries it wrote. */
export function decodeRoutes(bytes: Uint8Array, layout: NativeIrqLayout): GsiRoute[] {
  const l = layout.route;
  const view = viewOf(bytes);
  const routes: GsiRoute[] = [];
  for (let base = 0; base + l.size <= bytes.length; base += l.size) {
    const gsi = view.getUint32(base + l.gsi, true);
    if (view.getUint32(base + l.type, true) === layout.constants.IRQ_ROUTING_IRQCHIP) {
      const id = view.getUint32(base + l.irqchip, true);
      const irqchip = CHIP_NAMES[id];
      if (irqchip === undefined) throw new KvmError("EINVAL", "decodeRoutes", `entry at byte ${base}: irqchip ${id}`);
      routes.push({ gsi, type: "irqchip", irqchip, pin: view.getUint32(base + l.pin, true) });
    } else {
      const address =
        (BigInt(view.getUint32(base + l.msiAddressHi, true)) << 32n) |
        BigInt(view.getUint32(base + l.msiAddressLo, true));
      const route: GsiRoute = { gsi, type: "msi", address, data: view.getUint32(base + l.msiData, true) };
      if ((view.getUint32(base + l.flags, true) & layout.constants.MSI_VALID_DEVID) !== 0)
        route.devid = view.getUint32(base + l.msiDevid, true);
      routes.push(route);
    }
  }
  return routes;
}
