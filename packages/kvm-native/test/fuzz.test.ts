import { MemtopoError } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeBinding, type NativeRamBlock } from "../src/binding.js";
import { NativeKvm, nativeRamAllocator } from "../src/index.js";
import { decodeRegs, encodeRegs, encodeSregs } from "../src/regs.js";
import { kvm } from "./helpers.js";

// Random and hostile arguments at every native entry: each call either succeeds or
// throws an Error carrying an errno `code` (or V8's own TypeError for a foreign
// receiver); the process never crashes and nothing outside the addon's own
// mappings is touched (fd 0-2 and memory at arbitrary addresses survive).
const loaded = loadBinding();

function detachedBytes(): Uint8Array {
  const bytes = new Uint8Array(16);
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
  return bytes;
}

const hostile: unknown[] = [
  undefined,
  null,
  true,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -1,
  -0,
  1.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  Number.MAX_VALUE,
  -1n,
  2n ** 63n,
  2n ** 64n,
  -(2n ** 64n),
  "",
  "/dev/kvm",
  "x".repeat(5000),
  "a\0b",
  Symbol("s"),
  {},
  [],
  [1, 2],
  () => 0,
  new Uint8Array(0),
  new Uint8Array(400),
  new Uint16Array(4),
  new DataView(new ArrayBuffer(8)),
  new ArrayBuffer(8),
  0,
  1,
  2,
  4096,
  0n,
  0x1000n,
];

// Objects whose property reads or conversions throw, and a detached view. Kept out of
// fast-check's values (its counterexample printer trips on them) and tried in every
// argument position below.
const throwing: unknown[] = [
  detachedBytes(),
  new Proxy(
    {},
    {
      get() {
        throw new Error("hostile getter");
      },
    },
  ),
  {
    valueOf() {
      throw new Error("hostile getter");
    },
    toString() {
      throw new Error("hostile getter");
    },
  },
];

const arg = fc.oneof(fc.constantFrom(...hostile), fc.anything(), fc.integer(), fc.bigInt());
const args = fc.array(arg, { maxLength: 6 });

function expectTypedError(error: unknown): void {
  expect(error).toBeInstanceOf(Error);
  // A caller's own getter may throw through us; that is its error, not ours.
  if ((error as Error).message === "hostile getter") return;
  const e = error as { code?: unknown; errno?: unknown; message: string };
  if (error instanceof TypeError && e.code === undefined) {
    expect(e.message).toMatch(/Illegal invocation/);
    return;
  }
  expect(typeof e.code).toBe("string");
  expect(typeof e.errno).toBe("number");
}

/** Calls fn, returning its result, or checks the error it threw is a typed one. */
function attempt(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    expectTypedError(error);
    return undefined;
  }
}

function stdioStillOpen(): void {
  // fd 1 must still be ours: a hostile eventfdClose(1) must not have closed it.
  expect(() => process.stdout.write("")).not.toThrow();
}

/** The TypeScript-level entries that need no VM: each succeeds or throws a MemtopoError. */
function tsEntries(
  allocator: ReturnType<typeof nativeRamAllocator>,
  layout: NativeBinding["layout"],
  a: unknown,
  b: unknown,
): void {
  const expectMemtopo = (error: unknown) => {
    if ((error as Error).message !== "hostile getter") expect(error).toBeInstanceOf(MemtopoError);
  };
  try {
    allocator.allocate(a as string, b as bigint).release();
  } catch (error) {
    expectMemtopo(error);
  }
  const block = allocator.allocate("views", 0x2000n);
  for (const view of [() => block.bytesAt(a as bigint, b as number), () => block.bytesAt(0x1000n, a as number)]) {
    try {
      const bytes = view();
      expect(bytes.length).toBeLessThanOrEqual(0x2000);
    } catch (error) {
      expectMemtopo(error);
    }
  }
  block.release();
  for (const encode of [encodeRegs, encodeSregs] as ((l: typeof layout, x: never) => Uint8Array)[]) {
    try {
      encode(layout, a as never);
    } catch (error) {
      expectMemtopo(error);
    }
  }
}

describe.skipIf(!isBinding(loaded))("fuzz: every native entry without a VM", () => {
  const binding = loaded as NativeBinding;

  it("module functions: eventfd*, probeDevice, pageSize", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("eventfdCreate", "eventfdRead", "eventfdWrite", "eventfdClose", "probeDevice", "kickVcpu"),
        args,
        (name, a) => {
          const fn = binding[name as "eventfdRead"] as (...x: unknown[]) => unknown;
          const result = attempt(() => fn(...a));
          if (name === "eventfdCreate" && typeof result === "number") binding.eventfdClose(result);
        },
      ),
      { numRuns: 400 },
    );
    for (const fd of [0, 1, 2])
      expect(() => binding.eventfdClose(fd)).toThrow(expect.objectContaining({ code: "EBADF" }));
    stdioStillOpen();
  });

  it("RamBlock: constructor and every method, with real and foreign receivers", () => {
    const methods = ["buffer", "window", "hostAddr", "mapLength", "discard", "release"] as const;
    fc.assert(
      fc.property(args, fc.constantFrom(...methods), args, (ctorArgs, method, methodArgs) => {
        const Ctor = binding.RamBlock as unknown as new (...x: unknown[]) => NativeRamBlock;
        const block = attempt(() => new Ctor(...ctorArgs)) as NativeRamBlock | undefined;
        const receiver = block ?? ctorArgs[0];
        const fn = (binding.RamBlock.prototype as unknown as Record<string, (...x: unknown[]) => unknown>)[method]!;
        attempt(() => fn.apply(receiver, methodArgs));
        if (block !== undefined) attempt(() => block.release());
      }),
      { numRuns: 300 },
    );
  });

  it("Vm and Vcpu constructors and methods on foreign receivers", () => {
    const Vm = binding.Vm as unknown as new (...x: unknown[]) => unknown;
    const Vcpu = (binding as unknown as { Vcpu: new (...x: unknown[]) => unknown }).Vcpu;
    const vmMethods = Object.getOwnPropertyNames(binding.Vm.prototype).filter((n) => n !== "constructor");
    const vcpuMethods = Object.getOwnPropertyNames(Vcpu.prototype).filter((n) => n !== "constructor");
    expect(vmMethods.length).toBeGreaterThanOrEqual(8);
    expect(vcpuMethods.length).toBeGreaterThanOrEqual(9);
    const block = new binding.RamBlock("receiver", 4096n);
    fc.assert(
      fc.property(args, fc.constantFrom(...vmMethods), fc.constantFrom(...vcpuMethods), args, (a, vm, vcpu, b) => {
        if (kvm.ok) {
          attempt(() => new Vcpu(...a));
        } else {
          attempt(() => new Vm(...a));
          attempt(() => new Vcpu(...a));
        }
        const protoVm = binding.Vm.prototype as unknown as Record<string, (...x: unknown[]) => unknown>;
        const protoVcpu = Vcpu.prototype as unknown as Record<string, (...x: unknown[]) => unknown>;
        attempt(() => protoVm[vm]!.apply(block, b));
        attempt(() => protoVcpu[vcpu]!.apply(a[0], b));
      }),
      { numRuns: 300 },
    );
    block.release();
  });

  it("objects whose getters throw, in every argument position of every entry", () => {
    const Vcpu = (binding as unknown as { Vcpu: new (...x: unknown[]) => unknown }).Vcpu;
    const block = new binding.RamBlock("receiver", 4096n);
    const entries: [string, (...x: unknown[]) => unknown][] = [
      ...(["eventfdCreate", "eventfdRead", "eventfdWrite", "eventfdClose", "probeDevice", "kickVcpu"] as const).map(
        (n) => [n, binding[n] as (...x: unknown[]) => unknown] as [string, (...x: unknown[]) => unknown],
      ),
      ["RamBlock", (...x) => new (binding.RamBlock as unknown as new (...y: unknown[]) => unknown)(...x)],
      ["Vm", (...x) => new (binding.Vm as unknown as new (...y: unknown[]) => unknown)(...x)],
      ["Vcpu", (...x) => new Vcpu(...x)],
      ...Object.getOwnPropertyNames(binding.RamBlock.prototype)
        .filter((n) => n !== "constructor" && n !== "release")
        .map(
          (n) =>
            [n, (...x: unknown[]) => (block as unknown as Record<string, (...y: unknown[]) => unknown>)[n]!(...x)] as [
              string,
              (...x: unknown[]) => unknown,
            ],
        ),
    ];
    const allocator = nativeRamAllocator();
    for (const bad of throwing) {
      for (const [, fn] of entries) {
        for (let position = 0; position < 5; position++) {
          const a: unknown[] = [0, 1n, 4096, 0n, 0];
          a[position] = bad;
          attempt(() => fn(...a.slice(0, position + 1)));
          attempt(() => fn(...a));
        }
      }
      tsEntries(allocator, binding.layout, bad, 4096n);
      tsEntries(allocator, binding.layout, "x", bad);
    }
    block.release();
    expect(allocator.size).toBe(0);
    stdioStillOpen();
  });

  it("RAM views: window indexes, released blocks and blocks over 4 GiB throw typed errors", () => {
    const big = new binding.RamBlock("big", 8n << 30n);
    const small = new binding.RamBlock("small", 0x3000n);
    for (const index of [8, 9, 2 ** 32 - 1, 2 ** 32, -1, 1.5, Number.NaN, 1n, "0", null]) {
      for (const block of [big, small]) {
        expect(() => block.window(index as number)).toThrow(expect.objectContaining({ code: expect.any(String) }));
      }
    }
    expect(() => big.buffer()).toThrow(expect.objectContaining({ code: "E_RAM_TOO_LARGE" }));
    expect(big.window(7).byteLength).toBe(2 ** 30);
    expect(small.window(0).byteLength).toBe(0x3000);
    big.release();
    small.release();
    for (const call of [() => big.window(0), () => big.buffer(), () => small.window(0), () => small.hostAddr()]) {
      expect(call).toThrow(expect.objectContaining({ code: "EBADF" }));
    }
    const allocator = nativeRamAllocator();
    const ram = allocator.allocate("huge", 8n << 30n);
    fc.assert(
      fc.property(fc.oneof(fc.bigInt(), fc.constantFrom(...hostile)), fc.oneof(fc.integer(), arg), (offset, length) => {
        try {
          const view = ram.bytesAt(offset as bigint, length as number);
          expect(view.length).toBeLessThanOrEqual(Math.max(0, Number(length)));
        } catch (error) {
          expect(error).toBeInstanceOf(MemtopoError);
        }
      }),
      { numRuns: 300 },
    );
    ram.release();
    expect(() => ram.bytesAt(0n, 1)).toThrow(expect.objectContaining({ code: "E_RAM_RELEASED" }));
  });

  it("TypeScript entries: allocate and the register codecs throw MemtopoErrors only", () => {
    const allocator = nativeRamAllocator();
    const layout = binding.layout;
    fc.assert(
      fc.property(arg, arg, (name, size) => {
        tsEntries(allocator, layout, name, size);
      }),
      { numRuns: 300 },
    );
    expect(allocator.size).toBe(0);
  });
});

describe.skipIf(!kvm.ok)("fuzz: every VM and vCPU entry on a live VM", () => {
  it("NativeKvm methods throw KvmErrors only, and the VM still works afterwards", () => {
    const vm = NativeKvm.open();
    const ram = vm.ramAllocator.allocate("fuzz", 0x10000n);
    const notifier = vm.createEventNotifier();
    const region = fc.record({
      slot: fc.oneof(fc.constantFrom(0, 1, 0x10000, -1, 2 ** 32), fc.nat()),
      flags: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 0xff), fc.nat()),
      guestPhysAddr: fc.oneof(fc.constantFrom(0n, 0x1000n, 0xfffff000n, 2n ** 64n - 4096n), fc.bigInt()),
      memorySize: fc.oneof(fc.constantFrom(0n, 0x1000n, 0x10000n, 0x11000n, 2n ** 64n - 1n), fc.bigInt()),
      userspaceAddr: fc.oneof(
        fc.constantFrom(ram.hostAddr, ram.hostAddr + 0x1000n, ram.hostAddr - 0x1000n, 0n, 0x1000n),
        fc.bigInt(),
      ),
    });
    const ioeventfd = fc.record({
      addr: fc.oneof(fc.constantFrom(0xd0000n, 0x3f8n), fc.bigInt()),
      len: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 8, 16), fc.integer()),
      notifier: fc.oneof(fc.constant(notifier), fc.constantFrom(...hostile)),
      flags: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 7, 8), fc.integer()),
      datamatch: fc.oneof(fc.constantFrom(0n, 0x41n), fc.bigInt()),
    });
    fc.assert(
      fc.property(
        fc.oneof(region, fc.constantFrom(...hostile)),
        fc.oneof(ioeventfd, fc.constantFrom(...hostile)),
        arg,
        args,
        (r, io, slot, rest) => {
          for (const call of [
            () => vm.setUserMemoryRegion(r as never),
            () => vm.ioeventfd(io as never),
            () => vm.getDirtyLog(slot as number),
            () => vm.clearDirtyLog(...(rest as [number, bigint, number, Uint8Array])),
            () => vm.checkExtension(slot as number),
            () => vm.enableDirtyLogRing(slot as number),
            () => vm.enableDirtyLogManualProtect(slot as number),
            () => vm.reapDirtyRings(),
            () => vm.resetDirtyRings(),
          ]) {
            try {
              call();
            } catch (error) {
              expect(error).toMatchObject({ name: "KvmError" });
            }
          }
        },
      ),
      { numRuns: 300 },
    );
    const vcpu = vm.createVcpu(0);
    const regs = vcpu.getRegs();
    fc.assert(
      fc.property(args, (a) => {
        for (const call of [
          () => vcpu.setRegs(a[0] as never),
          () => vcpu.setSregs(a[0] as never),
          () => vm.createVcpu(a[0] as number),
        ]) {
          try {
            call();
          } catch (error) {
            expect(error).toBeInstanceOf(MemtopoError);
          }
        }
      }),
      { numRuns: 200 },
    );
    expect(decodeRegs(vm.layout, encodeRegs(vm.layout, regs))).toEqual(regs);
    vm.close();
    stdioStillOpen();
  });

  it("adoptRam and memslots on forged, released and foreign RAM blocks: typed errors only", () => {
    const binding = loaded as NativeBinding;
    const vm = new binding.Vm("/dev/kvm");
    const other = new binding.Vm("/dev/kvm");
    const mine = new binding.RamBlock("mine", 0x10000n);
    const theirs = new binding.RamBlock("theirs", 0x10000n);
    const released = new binding.RamBlock("released", 0x10000n);
    vm.adoptRam(mine);
    vm.adoptRam(mine);
    other.adoptRam(theirs);
    const releasedAddr = released.hostAddr();
    released.release();
    const forged = Object.create(binding.RamBlock.prototype) as object;
    // A live Vm dressed as a RamBlock: only the addon's own tag may pass.
    const disguised = new binding.Vm("/dev/kvm");
    const swapped = Object.setPrototypeOf(disguised, binding.RamBlock.prototype) as object;
    const candidates: unknown[] = [forged, swapped, theirs, released, ...hostile, ...throwing];
    for (const block of candidates) {
      expect(() => vm.adoptRam(block as NativeRamBlock)).toThrow(expect.objectContaining({ code: expect.any(String) }));
    }
    expect(() => vm.adoptRam(theirs)).toThrow(expect.objectContaining({ code: "E_RAM_FOREIGN" }));
    expect(() => vm.adoptRam(released)).toThrow(expect.objectContaining({ code: "E_RAM_RELEASED" }));
    const map =
      (uaddr: bigint, size = 0x10000n) =>
      () =>
        vm.setUserMemoryRegion(0, 0, 0n, size, uaddr);
    expect(map(theirs.hostAddr())).toThrow(expect.objectContaining({ code: "E_RAM_FOREIGN" }));
    expect(map(mine.hostAddr() + 0x1000n)).toThrow(expect.objectContaining({ code: "EFAULT" }));
    expect(map(mine.hostAddr() + 0x1000n, 0xf000n)).not.toThrow();
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
        (addr, size) => {
          try {
            vm.setUserMemoryRegion(1, 0, 0x100000n, size, addr);
            vm.setUserMemoryRegion(1, 0, 0x100000n, 0n, addr);
          } catch (error) {
            expect(["EFAULT", "EINVAL", "EEXIST", "E_RAM_FOREIGN", "E_RAM_RELEASED"]).toContain(
              (error as { code: string }).code,
            );
          }
        },
      ),
      { numRuns: 200 },
    );
    expect(map(releasedAddr)).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^(EFAULT|E_RAM_FOREIGN)$/) }),
    );
    vm.close();
    other.close();
    binding.Vm.prototype.close.call(disguised);
    mine.release();
    theirs.release();
    stdioStillOpen();
  });
});
