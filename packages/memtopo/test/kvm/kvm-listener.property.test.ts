import { attachKvm, KvmError } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import { ListenerCallbackError } from "@memtopo/listener-bus";
import { MemoryRegion, MemtopoError, SIZE_2_64 } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemorySystem } from "../../src/index.js";
import {
  apply,
  build,
  expectedCoalescedZones,
  expectedIoeventfds,
  expectedSlots,
  kernelCoalescedZones,
  kernelIoeventfds,
  mutationArb,
  PAGE,
  slotTables,
  stepArb,
} from "./kvm-machine.js";

// On random maps and mutation sequences the KVM memory listener never makes a
// call the (kernel-faithful) mock rejects, and the live slots always equal the set an
// independent oracle derives from the current FlatView (`kvm_set_phys_mem`).

describe("KVM memory listener against the mock kernel", () => {
  it("random maps and mutations: no call is rejected and the live slots equal the oracle's", () => {
    let checks = 0;
    let withZones = 0;
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 20 }),
        fc.array(mutationArb, { maxLength: 25 }),
        (steps, mutations) => {
          const machine = build(steps);
          const { sys, kernel, memory } = machine;
          expect(kernel.slotSnapshot()).toEqual(expectedSlots(sys, memory));
          for (const m of mutations) {
            try {
              apply(machine, m);
            } catch (e) {
              // Misuse of the tree is fine; a rejected KVM call is not.
              if (e instanceof ListenerCallbackError) throw e;
              if (!(e instanceof MemtopoError)) throw e;
            }
            expect(kernel.slotSnapshot()).toEqual(expectedSlots(sys, memory));
            expect(kernelIoeventfds(machine)).toEqual(expectedIoeventfds(machine));
            const zones = expectedCoalescedZones(machine);
            expect(kernelCoalescedZones(machine)).toEqual(zones);
            if (zones.length > 0) withZones++;
            checks++;
          }
          expect(kernel.calls.filter((c) => c.errno !== undefined)).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
    expect(checks).toBeGreaterThan(1000);
    // Coalesced zones must take part, or the check above proves nothing about them.
    expect(withZones).toBeGreaterThan(100);
  });

  it("quirk: a region's READONLY changing under a read-only alias leaves the range equal, so the slot keeps its flags (kvm_set_phys_mem)", () => {
    const kernel = new MockKvm();
    const sys = new MemorySystem({ accel: "kvm", ramAllocator: kernel.ramAllocator() });
    const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
    const ram = new MemoryRegion(sys, { kind: "ram", name: "ram", size: 0x2000n });
    const window = new MemoryRegion(sys, { kind: "alias", name: "window", size: 0x2000n, target: ram, offset: 0n });
    window.setReadonly(true);
    system.addSubregion(0x10000n, window);
    system.addSubregion(0x1000000000n, new MemoryRegion(sys, { kind: "io", name: "far", size: PAGE }));
    attachKvm(sys, kernel, { memory: sys.createAddressSpace("memory", system) });
    expect(kernel.slotSnapshot()).toEqual([{ gpa: "0x10000", size: "0x2000", flags: [] }]);
    ram.setReadonly(true);
    expect(kernel.slotSnapshot()).toEqual([{ gpa: "0x10000", size: "0x2000", flags: [] }]);
  });

  it("a backend failure mid-commit reaches the caller typed, other listeners see a whole stream, and the slot table matches the kernel", () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 4, maxLength: 20 }), fc.nat(), fc.nat(), (steps, pick, failAt) => {
        const machine = build(steps);
        const { sys, kernel, memory, all } = machine;
        if (all.length < 2) return;
        const seen: string[] = [];
        sys.registerListener({ begin: () => seen.push("begin"), commit: () => seen.push("commit") }, memory);
        const x = all[1 + (pick % (all.length - 1))]!;
        kernel.clearCalls();
        kernel.failNext("setUserMemoryRegion", "EIO", { after: failAt % 4 });
        seen.length = 0;
        let thrown: unknown = null;
        try {
          x.setEnabled(!x.enabled);
        } catch (e) {
          thrown = e;
        }
        if (thrown !== null) {
          expect(thrown).toBeInstanceOf(ListenerCallbackError);
          expect((thrown as ListenerCallbackError).failures.some((f) => f.error instanceof KvmError)).toBe(true);
          expect(seen).toEqual(["begin", "commit"]);
        }
        const { table, live } = slotTables(machine);
        expect(table).toEqual(live);
        kernel.clearFaults();
      }),
      { numRuns: 300 },
    );
  });
});
