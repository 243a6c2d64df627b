import { fc, test } from "@fast-check/vitest";
import { KvmError } from "@memtopo/kvm";
import type { EventNotifier } from "@memtopo/region-tree";
import { describe, expect } from "vitest";
import { MockKvm, type MockKvmOptions } from "../src/index.js";
import { KernelOracle, type OracleConfig } from "./oracle.js";

type Op =
  | { kind: "set"; slot: number; flags: number; gpa: number; size: number; uaddr: number }
  | { kind: "ioeventfd"; notifier: number; addr: number; len: number; flags: number; datamatch: number }
  | { kind: "dirty"; slot: number }
  | { kind: "modify"; slot: number; flags: number; gpa: number | null }
  | { kind: "write"; gpa: number; value: number };

const HOST_BASE = 0x1000_0000;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      slot: fc.oneof(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0x1_0000, max: 0x1_0002 }),
        fc.constant(0x2_0000),
      ),
      flags: fc.constantFrom(0, 0, 1, 2, 3, 4),
      gpa: fc.integer({ min: 0, max: 48 }).map((k) => k * 0x800),
      size: fc.integer({ min: 0, max: 12 }).map((k) => k * 0x800),
      uaddr: fc.constantFrom(HOST_BASE, HOST_BASE + 0x10_0000, HOST_BASE + 0x800),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("ioeventfd" as const),
      notifier: fc.integer({ min: 0, max: 3 }),
      addr: fc.constantFrom(0x100, 0x101, 0x2000, 0x8000),
      len: fc.constantFrom(0, 1, 2, 3, 4, 8),
      flags: fc.integer({ min: 0, max: 7 }),
      datamatch: fc.integer({ min: 0, max: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("dirty" as const), slot: fc.integer({ min: 0, max: 5 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("modify" as const),
      slot: fc.constantFrom(0, 1, 2, 0x1_0000),
      flags: fc.constantFrom(0, 1, 2, 3),
      gpa: fc.option(fc.integer({ min: 0, max: 24 }).map((k) => k * 0x1000)),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("write" as const),
      gpa: fc.oneof(fc.integer({ min: 0, max: 0x1_8000 }), fc.constantFrom(0x100, 0x101, 0x2000, 0x8000)),
      value: fc.integer({ min: 0, max: 2 }),
    }),
  },
);

const configArb = fc.record({
  nrMemslots: fc.constantFrom(4, 32764),
  addressSpaces: fc.constantFrom(1, 2),
  readonlyMem: fc.boolean(),
  anyLength: fc.boolean(),
});

function outcome(run: () => unknown): unknown {
  try {
    return run() ?? "ok";
  } catch (error) {
    if (error instanceof KvmError) return error.code;
    throw error;
  }
}

/** A `modify` resends a live slot (same host address and size) with new flags and maybe a new address. */
function resolve(op: Op, oracle: KernelOracle): Exclude<Op, { kind: "modify" }> {
  if (op.kind !== "modify") return op;
  const live = oracle.slots.get(op.slot);
  return {
    kind: "set",
    slot: op.slot,
    flags: op.flags,
    gpa: op.gpa ?? live?.gpa ?? 0,
    size: live?.size ?? 0x1000,
    uaddr: live?.uaddr ?? HOST_BASE,
  };
}

function slotTuples(kvm: MockKvm): number[][] {
  return kvm
    .memslots()
    .map((s) => [s.slot, Number(s.guestPhysAddr), Number(s.memorySize), Number(s.userspaceAddr), s.flags])
    .sort((a, b) => a[0]! - b[0]!);
}

function bitsOf(bitmap: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bitmap.length * 8; i++) if ((bitmap[i >> 3]! >> (i & 7)) & 1) out.push(i);
  return out;
}

describe("MockKvm against an independent oracle of the kernel rules", () => {
  test.prop([configArb, fc.array(opArb, { maxLength: 60 })], { numRuns: 300 })(
    "every call has the oracle's outcome and the live state stays equal",
    (config: OracleConfig, ops: Op[]) => {
      const options: MockKvmOptions = {
        nrMemslots: config.nrMemslots,
        addressSpaces: config.addressSpaces,
        readonlyMem: config.readonlyMem,
        ioeventfdAnyLength: config.anyLength,
      };
      const kvm = new MockKvm(options);
      const oracle = new KernelOracle(config);
      const notifiers: EventNotifier[] = [0, 1, 2].map(() => kvm.createEventNotifier());
      notifiers.push(new MockKvm().createEventNotifier());

      for (const raw of ops) {
        const op = resolve(raw, oracle);
        if (op.kind === "set") {
          const got = outcome(() =>
            kvm.setUserMemoryRegion({
              slot: op.slot,
              flags: op.flags,
              guestPhysAddr: BigInt(op.gpa),
              memorySize: BigInt(op.size),
              userspaceAddr: BigInt(op.uaddr),
            }),
          );
          expect(got, JSON.stringify(op)).toBe(oracle.setRegion(op.slot, op.flags, op.gpa, op.size, op.uaddr));
        } else if (op.kind === "ioeventfd") {
          const got = outcome(() =>
            kvm.ioeventfd({
              notifier: notifiers[op.notifier]!,
              addr: BigInt(op.addr),
              len: op.len,
              flags: op.flags,
              datamatch: BigInt(op.datamatch),
            }),
          );
          const want = oracle.ioeventfd(op.notifier, op.notifier < 3, op.addr, op.len, op.flags, op.datamatch);
          expect(got, JSON.stringify(op)).toBe(want);
        } else if (op.kind === "dirty") {
          const got = outcome(() => bitsOf(kvm.getDirtyLog(op.slot)));
          expect(got, JSON.stringify(op)).toEqual(oracle.getDirtyLog(op.slot));
        } else {
          const result = kvm.guestWrite(BigInt(op.gpa), op.value, 1);
          const got = result.kind === "ioeventfd" ? `ioeventfd:${notifiers.indexOf(result.notifier)}` : result.kind;
          expect(got, JSON.stringify(op)).toBe(oracle.guestWrite(op.gpa, op.value));
        }
        expect(slotTuples(kvm)).toEqual(oracle.slotTuples());
        expect(kvm.ioeventfds()).toHaveLength(oracle.ioeventfds.length);
      }
    },
  );

  test.prop([fc.array(opArb, { maxLength: 40 }), fc.integer({ min: 0, max: 39 }), fc.constantFrom("EIO", "ENOMEM")], {
    numRuns: 150,
  })("an injected failure changes nothing: the rest of the run matches a run without that call", (ops, at, errno) => {
    const kvm = new MockKvm({ addressSpaces: 2 });
    const oracle = new KernelOracle({ nrMemslots: 32764, addressSpaces: 2, readonlyMem: true, anyLength: true });
    const notifiers: EventNotifier[] = [0, 1, 2, 3].map(() => kvm.createEventNotifier());
    let seen = 0;
    kvm.failNext(() => seen++ === at, errno);
    for (const raw of ops) {
      const op = resolve(raw, oracle);
      if (op.kind === "set") {
        const got = outcome(() =>
          kvm.setUserMemoryRegion({
            slot: op.slot,
            flags: op.flags,
            guestPhysAddr: BigInt(op.gpa),
            memorySize: BigInt(op.size),
            userspaceAddr: BigInt(op.uaddr),
          }),
        );
        if (got !== errno || kvm.calls.at(-1)?.injected !== true) {
          expect(got).toBe(oracle.setRegion(op.slot, op.flags, op.gpa, op.size, op.uaddr));
        }
      } else if (op.kind === "ioeventfd") {
        const req = {
          notifier: notifiers[op.notifier]!,
          addr: BigInt(op.addr),
          len: op.len,
          flags: op.flags,
          datamatch: BigInt(op.datamatch),
        };
        const got = outcome(() => kvm.ioeventfd(req));
        if (got !== errno || kvm.calls.at(-1)?.injected !== true) {
          expect(got).toBe(oracle.ioeventfd(op.notifier, true, op.addr, op.len, op.flags, op.datamatch));
        }
      } else if (op.kind === "dirty") {
        const got = outcome(() => bitsOf(kvm.getDirtyLog(op.slot)));
        if (got !== errno || kvm.calls.at(-1)?.injected !== true) expect(got).toEqual(oracle.getDirtyLog(op.slot));
      } else {
        kvm.guestWrite(BigInt(op.gpa), op.value, 1);
        oracle.guestWrite(op.gpa, op.value);
      }
    }
    expect(kvm.calls.filter((c) => c.injected)).toHaveLength(at < kvm.calls.length ? 1 : 0);
    expect(slotTuples(kvm)).toEqual(oracle.slotTuples());
  });
});
