import { fc, test } from "@fast-check/vitest";
import {
  low32,
  MEMTX_ERROR,
  MEMTX_OK,
  MemoryRegion,
  type MemoryRegionOps,
  type MemTxAttrs,
  SIZE_2_64,
  storeLe,
} from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { MemorySystem, UNASSIGNED_MEM_OPS } from "../../src/index.js";
import { DispatchPlan, planAccessSize, planOf, planRead, planWrite } from "../../src/system/dispatch-plan.js";
import { type AccessEnv, dispatchRead, dispatchWrite, memoryAccessSize } from "../../src/system/region-access.js";

// The dispatch plan decides from an ops object once what QEMU's memory_access_size, memory_region_access_valid and
// access_with_adjusted_size decide at every access. The oracle is the per-access path (region-access.ts), itself
// held to a search and to the bigint formula in access-size.property.test.ts: on random ops, addresses, sizes and
// byte orders, the plan must give the same size, the same device calls and the same result.

const U64 = (1n << 64n) - 1n;
const addrArb = fc.oneof(
  fc.bigInt({ min: 0n, max: U64 }),
  fc
    .tuple(fc.bigInt({ min: 0n, max: U64 }), fc.integer({ min: 0, max: 63 }))
    .map(([a, zeros]) => BigInt.asUintN(64, (a >> BigInt(zeros)) << BigInt(zeros))),
  fc.bigInt({ min: 0n, max: 0x1_0000n }),
);
// Sizes of zero and up: a negative impl size makes access_with_adjusted_size step backwards on both paths.
const sizeFieldArb = fc.oneof(fc.constantFrom(undefined, 0, 1, 2, 3, 4, 8, 16), fc.integer({ min: 0, max: 9 }));
const specArb = fc.record({
  validMin: sizeFieldArb,
  validMax: fc.oneof(sizeFieldArb, fc.constantFrom(2 ** 32, 2 ** 40)),
  validUnaligned: fc.option(fc.boolean(), { nil: undefined }),
  accepts: fc.constantFrom(undefined, "all", "even", "none"),
  implMin: sizeFieldArb,
  implMax: sizeFieldArb,
  implUnaligned: fc.option(fc.boolean(), { nil: undefined }),
  endianness: fc.constantFrom(undefined, "little", "big", "native", "host"),
  callbacks: fc.constantFrom("plain", "attrs", "none", "read-only"),
  readValue: fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }),
});
type Spec = typeof specArb extends fc.Arbitrary<infer T> ? T : never;

/** Ops built from a spec whose callbacks log every call into `log`. */
function opsOf(spec: Spec, log: string[]): MemoryRegionOps {
  const accepts =
    spec.accepts === undefined
      ? undefined
      : (offset: bigint, size: number, isWrite: boolean) => {
          log.push(`accepts ${offset} ${size} ${isWrite}`);
          return spec.accepts === "all" || (spec.accepts === "even" && offset % 2n === 0n);
        };
  const ops: Record<string, unknown> = {
    valid: {
      minAccessSize: spec.validMin,
      maxAccessSize: spec.validMax,
      unaligned: spec.validUnaligned,
      ...(accepts === undefined ? {} : { accepts }),
    },
    impl: { minAccessSize: spec.implMin, maxAccessSize: spec.implMax, unaligned: spec.implUnaligned },
    endianness: spec.endianness,
  };
  if (spec.callbacks === "plain" || spec.callbacks === "read-only") {
    ops.read = (offset: bigint, size: number) => {
      log.push(`r ${offset} ${size}`);
      return spec.readValue;
    };
  }
  if (spec.callbacks === "plain") {
    ops.write = (offset: bigint, value: bigint, size: number) => {
      log.push(`w ${offset} ${value} ${size}`);
    };
  }
  if (spec.callbacks === "attrs") {
    ops.readWithAttrs = (offset: bigint, size: number) => {
      log.push(`ra ${offset} ${size}`);
      return { value: spec.readValue, result: MEMTX_ERROR };
    };
    ops.writeWithAttrs = (offset: bigint, value: bigint, size: number) => {
      log.push(`wa ${offset} ${value} ${size}`);
      return MEMTX_ERROR;
    };
  }
  return Object.freeze(ops) as MemoryRegionOps;
}

const env = (targetBigEndian: boolean): AccessEnv => ({
  targetBigEndian,
  userspaceIoeventfds: false,
  flushCoalescedMmio: () => {},
});
const ATTRS: MemTxAttrs = {};

function outcome<T>(f: () => T): { value: T } | { error: string } {
  try {
    return { value: f() };
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
}

describe("the dispatch plan decides what the per-access path decides", () => {
  test.prop([specArb, fc.integer({ min: 1, max: 1 << 20 }), addrArb], { numRuns: 2000 })(
    "planAccessSize equals memoryAccessSize (memory_access_size) for any ops, length and address",
    (spec, remaining, addr) => {
      const ops = opsOf(spec, []);
      const plan = new DispatchPlan(ops);
      expect(outcome(() => planAccessSize(plan, remaining, addr, low32(addr)))).toEqual(
        outcome(() => memoryAccessSize(ops, remaining, addr)),
      );
    },
  );

  test.prop(
    [
      specArb,
      addrArb,
      fc.constantFrom(1, 2, 3, 4, 8, 16),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.boolean(),
    ],
    { numRuns: 3000 },
  )(
    "planWrite makes the device calls dispatchWrite makes (memory_region_dispatch_write) and returns its result",
    (spec, addr, size, bytes, bigTarget) => {
      const planned: string[] = [];
      const each: string[] = [];
      const planOps = opsOf(spec, planned);
      const eachOps = opsOf(spec, each);
      let value = 0n;
      for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
      const got = outcome(() =>
        planWrite(null, new DispatchPlan(planOps), addr, low32(addr), bytes, 0, size, ATTRS, env(bigTarget)),
      );
      const want = outcome(() => dispatchWrite(null, eachOps, addr, value, size, ATTRS, env(bigTarget)));
      expect(got).toEqual(want);
      expect(planned).toEqual(each);
    },
  );

  test.prop([specArb, addrArb, fc.constantFrom(1, 2, 3, 4, 8, 16), fc.boolean()], { numRuns: 3000 })(
    "planRead makes the device calls dispatchRead makes (memory_region_dispatch_read) and stores its value",
    (spec, addr, size, bigTarget) => {
      const planned: string[] = [];
      const each: string[] = [];
      const data = new Uint8Array(size + 2).fill(0xee);
      const got = outcome(() =>
        planRead(null, new DispatchPlan(opsOf(spec, planned)), addr, low32(addr), data, 1, size, ATTRS, env(bigTarget)),
      );
      const want = outcome(() => {
        const r = dispatchRead(null, opsOf(spec, each), addr, size, ATTRS, env(bigTarget));
        const expected = new Uint8Array(size + 2).fill(0xee);
        storeLe(expected, 1, size, r.value);
        return { result: r.result, bytes: [...expected] };
      });
      if ("value" in got) expect({ value: { result: got.value, bytes: [...data] } }).toEqual(want);
      else expect(got).toEqual(want);
      expect(planned).toEqual(each);
    },
  );

  it("unassigned_mem_ops refuse every access with MEMTX_DECODE_ERROR, reading 0, as the per-access path does", () => {
    const plan = planOf(UNASSIGNED_MEM_OPS);
    expect(plan.refusesAll).toBe(true);
    const data = Uint8Array.of(1, 2, 3, 4);
    expect(planRead(null, plan, 0x10n, 0x10, data, 0, 4, ATTRS, env(false))).toBe(
      dispatchRead(null, UNASSIGNED_MEM_OPS, 0x10n, 4, ATTRS, env(false)).result,
    );
    expect([...data]).toEqual([0, 0, 0, 0]);
    expect(planWrite(null, plan, 0x10n, 0x10, data, 0, 4, ATTRS, env(false))).toBe(
      dispatchWrite(null, UNASSIGNED_MEM_OPS, 0x10n, 0n, 4, ATTRS, env(false)),
    );
  });
});

describe("ops are fixed when their region is created (QEMU's const MemoryRegionOps)", () => {
  function port(ops: MemoryRegionOps) {
    const sys = new MemorySystem();
    const io = new MemoryRegion(sys, { kind: "container", name: "io", size: 0x10000n });
    io.addSubregion(0x60n, new MemoryRegion(sys, { kind: "io", name: "dev", size: 4n, ops }));
    return sys.createAddressSpace("I/O", io);
  }

  it("the ops object, its valid and its impl are frozen: changing them throws, and accesses keep the rules", () => {
    const writes: number[] = [];
    const ops = {
      write: (_offset: bigint, _value: bigint, size: number) => {
        writes.push(size);
      },
      read: () => 0n,
      valid: { maxAccessSize: 1 },
      impl: { maxAccessSize: 1 },
    };
    const io = port(ops);
    expect(Object.isFrozen(ops) && Object.isFrozen(ops.valid) && Object.isFrozen(ops.impl)).toBe(true);
    expect(() => {
      (ops.valid as { maxAccessSize: number }).maxAccessSize = 4;
    }).toThrow(TypeError);
    expect(() => {
      (ops as { write: unknown }).write = () => {};
    }).toThrow(TypeError);
    expect(io.write(0x60n, Uint8Array.of(1, 2, 3, 4))).toBe(MEMTX_OK);
    expect(writes).toEqual([1, 1, 1, 1]);
  });

  it("two regions sharing one ops object share its plan", () => {
    const ops: MemoryRegionOps = { read: () => 0n, write: () => {} };
    port(ops);
    port(ops);
    expect(planOf(ops)).toBe(planOf(ops));
  });
});

describe("the address check of an access, memoised for the last address", () => {
  it("a number, a negative or a 2^64 address is refused after a valid access to the same value", () => {
    const sys = new MemorySystem();
    const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
    const memory = sys.createAddressSpace("memory", system);
    const data = new Uint8Array(1);
    memory.read(0x10n, data);
    memory.read(0x10n, data);
    expect(() => memory.read(0x10 as unknown as bigint, data)).toThrow(
      expect.objectContaining({ code: "E_INVALID_ADDRESS" }),
    );
    expect(() => memory.read(-1n, data)).toThrow(expect.objectContaining({ code: "E_INVALID_ADDRESS" }));
    expect(() => memory.read(1n << 64n, data)).toThrow(expect.objectContaining({ code: "E_INVALID_ADDRESS" }));
    memory.read(0x10n, data);
    expect(() => memory.read(0x10n, [0] as unknown as Uint8Array)).toThrow(
      expect.objectContaining({ code: "E_INVALID_ARGUMENT" }),
    );
  });
});
