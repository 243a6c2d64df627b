import { type GsiRoute, IOAPIC_PINS, type IrqchipId, KVM_MAX_IRQ_ROUTES, PIC_PINS } from "@memtopo/kvm";
import { kernelError, MockKvmUsageError } from "../errors.js";
import { u32, u64 } from "../validate.js";

const OP = "KVM_SET_GSI_ROUTING";

/** The routes KVM_CREATE_IRQCHIP installs: GSI 0-15 to the PICs, GSI 0-23 to the IOAPIC pins. */
export function defaultRouting(): GsiRoute[] {
  const routes: GsiRoute[] = [];
  for (let gsi = 0; gsi < IOAPIC_PINS; gsi++) {
    if (gsi < 2 * PIC_PINS) {
      routes.push({ gsi, type: "irqchip", irqchip: gsi < PIC_PINS ? "pic-master" : "pic-slave", pin: gsi % PIC_PINS });
    }
    routes.push({ gsi, type: "irqchip", irqchip: "ioapic", pin: gsi });
  }
  return routes;
}

/**
 * Checks a whole table as `kvm_set_irq_routing` and x86's `kvm_set_routing_entry` do, in
 * their order: every GSI below KVM_MAX_IRQ_ROUTES first, then each entry (a PIC pin below 8,
 * an IOAPIC pin below 24, one route per irqchip and GSI, an MSI route alone on its GSI).
 * Returns frozen copies; throws EINVAL before anything changes.
 */
export function checkRouting(routes: readonly GsiRoute[]): GsiRoute[] {
  if (!Array.isArray(routes)) throw new MockKvmUsageError("expected an array", "routes");
  if (routes.length > KVM_MAX_IRQ_ROUTES) {
    throw kernelError("EINVAL", OP, `${routes.length} routes is more than KVM_MAX_IRQ_ROUTES (${KVM_MAX_IRQ_ROUTES})`);
  }
  const copies = routes.map((r, i) => copyRoute(r, i));
  copies.forEach((r, i) => {
    if (r.gsi >= KVM_MAX_IRQ_ROUTES) {
      throw kernelError(
        "EINVAL",
        OP,
        `routes[${i}].gsi ${r.gsi} is not below KVM_MAX_IRQ_ROUTES (${KVM_MAX_IRQ_ROUTES})`,
      );
    }
  });
  const byGsi = new Map<number, GsiRoute[]>();
  copies.forEach((r, i) => {
    const same = byGsi.get(r.gsi) ?? [];
    for (const other of same) {
      if (other.type !== "irqchip" || r.type !== "irqchip" || other.irqchip === r.irqchip) {
        throw kernelError(
          "EINVAL",
          OP,
          `routes[${i}]: GSI ${r.gsi} already has a ${other.type === "msi" ? "MSI route" : `route to ${other.irqchip}`} (one route per irqchip, an MSI route alone)`,
        );
      }
    }
    if (r.type === "irqchip") {
      const pins = r.irqchip === "ioapic" ? IOAPIC_PINS : PIC_PINS;
      if (r.pin >= pins)
        throw kernelError("EINVAL", OP, `routes[${i}].pin ${r.pin} is not below ${pins} (${r.irqchip})`);
    }
    byGsi.set(r.gsi, [...same, r]);
  });
  return copies;
}

const CHIPS: readonly IrqchipId[] = ["pic-master", "pic-slave", "ioapic"];

function copyRoute(route: GsiRoute, i: number): GsiRoute {
  if (typeof route !== "object" || route === null) throw new MockKvmUsageError("expected an object", `routes[${i}]`);
  const gsi = u32(route.gsi, `routes[${i}].gsi`);
  if (route.type === "irqchip") {
    if (!CHIPS.includes(route.irqchip)) {
      throw kernelError("EINVAL", OP, `routes[${i}].irqchip must be one of ${CHIPS.join(", ")}`);
    }
    return Object.freeze({ gsi, type: "irqchip", irqchip: route.irqchip, pin: u32(route.pin, `routes[${i}].pin`) });
  }
  if (route.type === "msi") {
    const address = u64(route.address, `routes[${i}].address`);
    const devid = route.devid === undefined ? undefined : u32(route.devid, `routes[${i}].devid`);
    return Object.freeze({
      gsi,
      type: "msi",
      address,
      data: u32(route.data, `routes[${i}].data`),
      ...(devid === undefined ? {} : { devid }),
    });
  }
  throw kernelError("EINVAL", OP, `routes[${i}].type must be "irqchip" or "msi" (the other kinds are not x86's)`);
}
