import { EdgeIrqfdLine, GsiIrqLine, KvmError, ResampleIrqfdLine } from "@memtopo/kvm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeBinding } from "../src/binding.js";
import { NativeKvm } from "../src/index.js";
import { clockArgs } from "../src/interrupts/clock-codec.js";
import { encodeIrqchip } from "../src/interrupts/irqchip-codec.js";
import { encodePit } from "../src/interrupts/pit-codec.js";
import { encodeRoutes } from "../src/interrupts/route-codec.js";
import { kvm } from "./helpers.js";

// Random and hostile arguments at every interrupt entry (native/irq.cc and the TypeScript
// above it): each call succeeds or throws a typed error (an Error with an errno `code`
// from the addon, a KvmError from TypeScript); the process never crashes and no fd it
// was not given (stdio) is touched.
const loaded = loadBinding();

const IRQ_METHODS = [
  "createIrqchip",
  "getIrqchip",
  "setIrqchip",
  "createPit2",
  "getPit2",
  "setPit2",
  "irqLine",
  "irqfd",
  "setGsiRouting",
  "signalMsi",
  "getClock",
  "setClock",
  "setIdentityMapAddr",
  "setTssAddr",
] as const;

const hostile: unknown[] = [
  undefined,
  null,
  true,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -1,
  1.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  -1n,
  2n ** 64n,
  "",
  "pic-master",
  "ioapic",
  {},
  [],
  { toString: 0, valueOf: 0 },
  { chip: "ioapic" },
  { chip: "pic-master", pic: {} },
  { channels: [{}, {}, {}], flags: 0 },
  { gsi: 0, notifier: { fd: 1 } },
  { gsi: 0, notifier: { fd: 0, id: 1, signal() {} }, resample: { fd: 2 } },
  [{ gsi: 0, type: "irqchip", irqchip: "pic-master", pin: 0 }],
  [{ gsi: 0, type: "msi", address: -1n, data: 0 }],
  { address: 0xfee00000n, data: 0x400, devid: -1 },
  { clock: 0n, flags: 0x80 },
  new Uint8Array(0),
  new Uint8Array(48),
  new Uint8Array(112),
  new Uint8Array(512),
  new Uint8Array(48 * 4097),
  new Uint16Array(4),
  0,
  1,
  2,
  3,
  24,
  4095,
  4096,
  0n,
  0xffffd000n,
  0xffffe000n,
];
const arg = fc.oneof(fc.constantFrom(...hostile), fc.anything(), fc.integer(), fc.bigInt());
const args = fc.array(arg, { maxLength: 5 });

function expectTyped(error: unknown): void {
  expect(error).toBeInstanceOf(Error);
  const e = error as { code?: unknown; errno?: unknown; message: string };
  if (error instanceof TypeError && e.code === undefined) {
    expect(e.message).toMatch(/Illegal invocation/);
    return;
  }
  expect(typeof e.code).toBe("string");
  expect(typeof e.errno).toBe("number");
}

function attempt(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expectTyped(error);
  }
}

function expectKvmError(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(KvmError);
  }
}

describe.skipIf(!isBinding(loaded))("fuzz: interrupt codecs, irq lines and foreign receivers (no VM)", () => {
  const binding = loaded as NativeBinding;
  const layout = binding.layout.irq;

  it("the encoders take any value: a valid struct or a KvmError EINVAL", () => {
    fc.assert(
      fc.property(arg, arg, (a, b) => {
        expectKvmError(() => encodeIrqchip(a as never, layout, "KVM_SET_IRQCHIP"));
        expectKvmError(() => encodeIrqchip({ chip: "ioapic", ioapic: a } as never, layout, "KVM_SET_IRQCHIP"));
        expectKvmError(() => encodeIrqchip({ chip: "pic-slave", pic: a } as never, layout, "KVM_SET_IRQCHIP"));
        expectKvmError(() => encodePit(a as never, layout, "KVM_SET_PIT2"));
        expectKvmError(() => encodePit({ channels: [a, a, a], flags: b } as never, layout, "KVM_SET_PIT2"));
        expectKvmError(() => encodeRoutes(a as never, layout, "KVM_SET_GSI_ROUTING"));
        expectKvmError(() =>
          encodeRoutes([{ gsi: a, type: "msi", address: b, data: a }] as never, layout, "KVM_SET_GSI_ROUTING"),
        );
        expectKvmError(() => clockArgs(a as never, "KVM_SET_CLOCK"));
      }),
      { numRuns: 500 },
    );
  });

  it("irq lines refuse a level that is not a boolean, with nothing sent", () => {
    const sent: unknown[] = [];
    const vm = {
      irqLine(gsi: number, level: boolean) {
        sent.push([gsi, level]);
        return 1;
      },
    };
    const notifier = { id: 1, signal: () => sent.push("signal"), read: () => 0n };
    fc.assert(
      fc.property(arg, (a) => {
        fc.pre(typeof a !== "boolean");
        for (const line of [
          new GsiIrqLine(vm, 3),
          new EdgeIrqfdLine(notifier),
          new ResampleIrqfdLine(notifier, notifier),
        ]) {
          expect(() => line.set(a as boolean)).toThrow(KvmError);
        }
        expectKvmError(() => new GsiIrqLine(vm, a as number));
      }),
      { numRuns: 300 },
    );
    expect(sent).toEqual([]);
  });

  it("the addon's interrupt methods on foreign receivers throw, never crash", () => {
    const proto = binding.Vm.prototype as unknown as Record<string, (...x: unknown[]) => unknown>;
    for (const name of IRQ_METHODS) expect(typeof proto[name]).toBe("function");
    fc.assert(
      fc.property(fc.constantFrom(...IRQ_METHODS), arg, args, (name, receiver, a) => {
        attempt(() => proto[name]!.apply(receiver, a));
      }),
      { numRuns: 400 },
    );
  });
});

describe.skipIf(!kvm.ok || !isBinding(loaded))("fuzz: interrupt entries of a real VM", () => {
  const binding = loaded as NativeBinding;

  it("every addon interrupt method with random and hostile arguments: typed errors, stdio untouched", () => {
    const vm = new binding.Vm("/dev/kvm");
    const methods = vm as unknown as Record<string, (...x: unknown[]) => unknown>;
    try {
      fc.assert(
        fc.property(fc.constantFrom(...IRQ_METHODS), args, (name, a) => {
          attempt(() => methods[name]!.apply(vm, a));
        }),
        { numRuns: 1500 },
      );
      for (const fd of [0, 1, 2]) {
        expect(() => vm.irqfd(fd, 0, 0, 0)).toThrow(expect.objectContaining({ code: "EBADF" }));
        expect(() => vm.irqfd(fd, 0, 2, fd)).toThrow(expect.objectContaining({ code: "EBADF" }));
      }
      expect(() => process.stdout.write("")).not.toThrow();
    } finally {
      vm.close();
    }
    expect(() => vm.getClock()).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(() => vm.irqLine(0, 1)).toThrow(expect.objectContaining({ code: "EBADF" }));
  });

  it("every NativeKvm interrupt method with random and hostile arguments throws only KvmError", () => {
    const vm = NativeKvm.open();
    const methods = vm as unknown as Record<string, (...x: unknown[]) => unknown>;
    try {
      fc.assert(
        fc.property(fc.constantFrom(...IRQ_METHODS), args, (name, a) => {
          expectKvmError(() => methods[name]!.apply(vm, a));
        }),
        { numRuns: 1500 },
      );
    } finally {
      vm.close();
    }
  });
});
