import { KvmError } from "@memtopo/kvm";
import { ListenerCallbackError, type MemoryRegionSection } from "@memtopo/listener-bus";
import { MemtopoError } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  apply,
  build,
  expectedIoeventfds,
  expectedSlots,
  type KvmMachine,
  kernelIoeventfds,
  type Mutation,
  mutationArb,
  slotTables,
  stepArb,
} from "./kvm-machine.js";

// Backend faults: the mock kernel fails the k-th call of a commit, for every k the
// commit makes. The commit must report the failure typed, leave the listener's slot table
// equal to what the kernel holds, deliver every other listener a whole stream, and the next
// commit must bring the kernel back to what `kvm_set_phys_mem`, `kvm_mem_ioeventfd_add`/`kvm_io_ioeventfd_add` derive from the view.

/** A mutation, with misuse of the tree (a typed error before any commit) ignored. */
function mutate(machine: KvmMachine, m: Mutation): unknown {
  try {
    apply(machine, m);
    return null;
  } catch (error) {
    if (error instanceof ListenerCallbackError) return error;
    if (!(error instanceof MemtopoError)) throw error;
    return null;
  }
}

/** A listener that mirrors the view of `memory` from region_add/region_del alone. */
function replica(machine: KvmMachine) {
  const ranges = new Set<string>();
  const key = (s: MemoryRegionSection) => `${s.offsetWithinAddressSpace.toString(16)}+${s.size.toString(16)}`;
  machine.sys.registerListener(
    {
      name: "replica",
      regionAdd: (s) => void ranges.add(key(s)),
      regionDel: (s) => void ranges.delete(key(s)),
    },
    machine.memory,
  );
  const view = () =>
    new Set(machine.memory.currentMap.ranges.map((r) => `${r.start.toString(16)}+${r.size.toString(16)}`));
  return { ranges, view };
}

// Coalesced-zone calls are left out: QEMU ignores their result (a refused zone only means
// those writes exit as usual), so a fault there is neither reported nor recovered.
const KERNEL_CALL = (call: { method: string }) =>
  call.method !== "checkExtension" && !call.method.endsWith("CoalescedMmio");

describe("a backend fault at every call position of a commit is reported typed and recovered from", () => {
  it("is reported typed, leaves the slot table equal to the kernel's, and the next commit recovers", () => {
    let positions = 0;
    const errnos = new Set<string>();
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 2, maxLength: 16 }),
        fc.array(mutationArb, { maxLength: 6 }),
        mutationArb,
        mutationArb,
        fc.constantFrom("EIO", "ENOMEM", "EFAULT", "EINTR", "EAGAIN"),
        (steps, prefix, faulted, next, errno) => {
          const dry = build(steps);
          for (const m of prefix) mutate(dry, m);
          dry.kernel.clearCalls();
          mutate(dry, faulted);
          const calls = dry.kernel.calls.filter(KERNEL_CALL).length;
          for (let k = 0; k < calls; k++) {
            const machine = build(steps);
            for (const m of prefix) mutate(machine, m);
            const mirror = replica(machine);
            machine.kernel.failNext(KERNEL_CALL, errno, { after: k });
            const thrown = mutate(machine, faulted);

            expect(thrown).toBeInstanceOf(ListenerCallbackError);
            const failures = (thrown as ListenerCallbackError).failures;
            expect(failures.some((f) => f.error instanceof KvmError && f.error.code === errno)).toBe(true);
            expect(failures.every((f) => f.error instanceof KvmError)).toBe(true);
            const { table, live } = slotTables(machine);
            expect(table).toEqual(live);
            expect(mirror.ranges).toEqual(mirror.view());

            // The next commit: a change of its own plus `far` toggled, so that it surely commits.
            machine.sys.begin();
            mutate(machine, next);
            machine.far.setEnabled(!machine.far.enabled);
            machine.sys.commit();
            expect(machine.kernel.slotSnapshot()).toEqual(expectedSlots(machine.sys, machine.memory));
            expect(kernelIoeventfds(machine)).toEqual(expectedIoeventfds(machine));
            expect(machine.kvm.memory.outOfSync).toEqual({
              missingSlots: [],
              staleSlots: [],
              flagUpdates: 0,
              ioeventfds: 0,
            });
            expect(machine.kvm.io?.pending).toBe(0);
            positions++;
            errnos.add(errno);
          }
        },
      ),
      { numRuns: 300 },
    );
    // The generator must keep producing commits that reach the kernel, with every errno. 300 runs
    // gave 191 to 262 faulted positions when measured; fewer than 100 would mean it had stopped.
    expect(positions).toBeGreaterThan(100);
    expect(errnos.size).toBe(5);
  });
});
