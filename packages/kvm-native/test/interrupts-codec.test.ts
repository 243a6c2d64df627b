import {
  type GsiRoute,
  IOAPIC_PINS,
  type IoapicState,
  type IrqchipState,
  KvmError,
  PIC_STATE_FIELDS,
  type PicState,
  type PitState,
} from "@memtopo/kvm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeBinding } from "../src/binding.js";
import { clockArgs, decodeClock } from "../src/interrupts/clock-codec.js";
import { decodeIrqchip, encodeIrqchip } from "../src/interrupts/irqchip-codec.js";
import { decodePit, encodePit } from "../src/interrupts/pit-codec.js";
import { decodeRoutes, encodeRoutes } from "../src/interrupts/route-codec.js";

// The interrupt structs are encoded and decoded in TypeScript with the offsets the addon
// computes from <linux/kvm.h>; no /dev/kvm is needed, only the addon.
const loaded = loadBinding();

const u = (bits: number) => fc.integer({ min: 0, max: 2 ** bits - 1 });
const picState = fc.record(Object.fromEntries(PIC_STATE_FIELDS.map((f) => [f, u(8)]))) as fc.Arbitrary<PicState>;
const redirection = fc.record({
  vector: u(8),
  deliveryMode: u(3),
  destMode: u(1),
  deliveryStatus: u(1),
  polarity: u(1),
  remoteIrr: u(1),
  triggerMode: u(1),
  mask: u(1),
  destId: u(8),
  reserved: fc.bigInt({ min: 0n, max: (1n << 39n) - 1n }),
});
const ioapicState: fc.Arbitrary<IoapicState> = fc.record({
  baseAddress: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  ioregsel: u(32),
  id: u(32),
  irr: u(32),
  redirections: fc.array(redirection, { minLength: IOAPIC_PINS, maxLength: IOAPIC_PINS }),
});
const irqchipState: fc.Arbitrary<IrqchipState> = fc.oneof(
  fc.record({ chip: fc.constantFrom("pic-master" as const, "pic-slave" as const), pic: picState }),
  fc.record({ chip: fc.constant("ioapic" as const), ioapic: ioapicState }),
);
const channel = fc.record({
  count: u(32),
  latchedCount: u(16),
  countLatched: u(8),
  statusLatched: u(8),
  status: u(8),
  readState: u(8),
  writeState: u(8),
  writeLatch: u(8),
  rwMode: u(8),
  mode: u(8),
  bcd: u(8),
  gate: u(8),
  countLoadTime: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
});
const pitState = fc.record({ channels: fc.tuple(channel, channel, channel), flags: u(32) }) as fc.Arbitrary<PitState>;
const route: fc.Arbitrary<GsiRoute> = fc.oneof(
  fc.record({
    gsi: u(32),
    type: fc.constant("irqchip" as const),
    irqchip: fc.constantFrom("pic-master" as const, "pic-slave" as const, "ioapic" as const),
    pin: u(32),
  }),
  fc.record(
    {
      gsi: u(32),
      type: fc.constant("msi" as const),
      address: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      data: u(32),
      devid: u(32),
    },
    { requiredKeys: ["gsi", "type", "address", "data"] },
  ),
);

describe.skipIf(!isBinding(loaded))("interrupt struct codecs (offsets from the addon)", () => {
  const layout = (loaded as NativeBinding).layout.irq;

  it("the layout is the x86-64 ABI's: 512-byte chip union, 112-byte kvm_pit_state2, 48-byte routing entry and clock", () => {
    expect(layout.chipSize).toBe(512);
    expect(layout.pit.size).toBe(112);
    expect(layout.route.size).toBe(48);
    expect(layout.clock.size).toBe(48);
    expect(layout.ioapic.pins).toBe(IOAPIC_PINS);
  });

  it("KVM_GET/SET_IRQCHIP: any PIC or IOAPIC state encodes and decodes back to itself", () => {
    fc.assert(
      fc.property(irqchipState, (state) => {
        const { chipId, bytes } = encodeIrqchip(state, layout, "KVM_SET_IRQCHIP");
        expect(chipId).toBe({ "pic-master": 0, "pic-slave": 1, ioapic: 2 }[state.chip]);
        expect(bytes.length).toBe(512);
        expect(decodeIrqchip(state.chip, bytes, layout)).toEqual(state);
      }),
      { numRuns: 300 },
    );
  });

  it("an IOAPIC redirection entry is the hardware's 64-bit format (vector 0-7, mask 16, destination 56-63)", () => {
    const ioapic: IoapicState = {
      baseAddress: 0xfec00000n,
      ioregsel: 0,
      id: 0,
      irr: 0,
      redirections: Array.from({ length: IOAPIC_PINS }, () => ({
        vector: 0,
        deliveryMode: 0,
        destMode: 0,
        deliveryStatus: 0,
        polarity: 0,
        remoteIrr: 0,
        triggerMode: 0,
        mask: 1,
        destId: 0,
        reserved: 0n,
      })),
    };
    ioapic.redirections[3] = {
      ...ioapic.redirections[3]!,
      vector: 0x33,
      deliveryMode: 7,
      triggerMode: 1,
      mask: 0,
      destId: 0xab,
    };
    const { bytes } = encodeIrqchip({ chip: "ioapic", ioapic }, layout, "KVM_SET_IRQCHIP");
    const view = new DataView(bytes.buffer);
    expect(view.getBigUint64(layout.ioapic.redirtbl + 3 * 8, true)).toBe(0xab00_0000_0000_8733n);
    expect(view.getBigUint64(layout.ioapic.redirtbl, true)).toBe(1n << 16n);
    expect(view.getBigUint64(layout.ioapic.baseAddress, true)).toBe(0xfec00000n);
  });

  it("KVM_GET/SET_PIT2: any kvm_pit_state2 encodes and decodes back to itself (count_load_time signed)", () => {
    fc.assert(
      fc.property(pitState, (state) => {
        expect(decodePit(encodePit(state, layout, "KVM_SET_PIT2"), layout)).toEqual(state);
      }),
      { numRuns: 300 },
    );
  });

  it("KVM_SET_GSI_ROUTING: any table encodes to 48-byte entries and decodes back (devid sets KVM_MSI_VALID_DEVID)", () => {
    fc.assert(
      fc.property(fc.array(route, { maxLength: 40 }), (routes) => {
        const bytes = encodeRoutes(routes, layout, "KVM_SET_GSI_ROUTING");
        expect(bytes.length).toBe(routes.length * 48);
        expect(decodeRoutes(bytes, layout)).toEqual(routes);
      }),
      { numRuns: 300 },
    );
  });

  it("KVM_GET_CLOCK bytes decode by field; KVM_SET_CLOCK arguments default realtime and hostTsc to 0", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        u(32),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        (clock, flags, realtime) => {
          const bytes = new Uint8Array(layout.clock.size);
          const view = new DataView(bytes.buffer);
          view.setBigUint64(layout.clock.clock, clock, true);
          view.setUint32(layout.clock.flags, flags, true);
          view.setBigUint64(layout.clock.realtime, realtime, true);
          expect(decodeClock(bytes, layout)).toEqual({ clock, flags, realtime, hostTsc: 0n });
          expect(clockArgs({ clock, flags }, "KVM_SET_CLOCK")).toEqual([clock, flags, 0n, 0n]);
        },
      ),
    );
  });

  it("a field out of its C type's range is EINVAL naming the field, before any byte is sent", () => {
    const pic = Object.fromEntries(PIC_STATE_FIELDS.map((f) => [f, 0])) as unknown as PicState;
    const bad = (call: () => unknown, path: string) => {
      const error = (() => {
        try {
          call();
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(KvmError);
      expect(error).toMatchObject({ code: "EINVAL" });
      expect((error as Error).message).toContain(path);
    };
    bad(
      () => encodeIrqchip({ chip: "pic-master", pic: { ...pic, irr: 256 } }, layout, "KVM_SET_IRQCHIP"),
      "state.pic.irr",
    );
    bad(
      () => encodeIrqchip({ chip: "pic-slave", pic: { ...pic, imr: -1 } }, layout, "KVM_SET_IRQCHIP"),
      "state.pic.imr",
    );
    bad(() => encodeIrqchip({ chip: "lapic" } as never, layout, "KVM_SET_IRQCHIP"), "chip");
    bad(
      () => encodeIrqchip({ chip: "ioapic", ioapic: { redirections: [] } } as never, layout, "KVM_SET_IRQCHIP"),
      "state.ioapic.baseAddress",
    );
    bad(
      () => encodeRoutes([{ gsi: 1, type: "msi", address: 1n << 64n, data: 0 }], layout, "KVM_SET_GSI_ROUTING"),
      "routes[0].address",
    );
    bad(() => encodeRoutes([{ gsi: 1, type: "xen" } as never], layout, "KVM_SET_GSI_ROUTING"), "routes[0].type");
    bad(
      () =>
        encodeRoutes(
          Array.from({ length: 4097 }, (_, gsi) => ({ gsi, type: "irqchip", irqchip: "ioapic", pin: 0 })),
          layout,
          "KVM_SET_GSI_ROUTING",
        ),
      "4096",
    );
    bad(() => clockArgs({ clock: 1, flags: 0 } as never, "KVM_SET_CLOCK"), "data.clock");
  });
});
