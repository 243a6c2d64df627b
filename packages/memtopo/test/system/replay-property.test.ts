import { fc, test } from "@fast-check/vitest";
import { ListenerCallbackError, type MemoryListener } from "@memtopo/listener-bus";
import { type EventNotifier, MemoryRegion, MemtopoError, SIZE_2_64 } from "@memtopo/region-tree";
import { describe, expect } from "vitest";
import { type AddressSpace, MemorySystem } from "../../src/index.js";
import { fdKey, flatRangeKey, type Replica, replica } from "./replica.js";

/** Whether every failure of a ListenerCallbackError is the injected one. */
function isInjected(error: unknown): boolean {
  return (
    error instanceof ListenerCallbackError &&
    error.failures.every((f) => f.listener.name === "faulty" && (f.error as Error).message === "injected fault")
  );
}

const op = fc.oneof(
  fc.record({
    t: fc.constant("add" as const),
    parent: fc.nat(),
    child: fc.nat(),
    addr: fc.nat(0x40),
    prio: fc.integer({ min: -1, max: 2 }),
  }),
  fc.record({ t: fc.constant("del" as const), child: fc.nat() }),
  fc.record({ t: fc.constant("enable" as const), r: fc.nat(), on: fc.boolean() }),
  fc.record({ t: fc.constant("move" as const), r: fc.nat(), addr: fc.nat(0x40) }),
  fc.record({ t: fc.constant("size" as const), r: fc.nat(), size: fc.nat(0x30) }),
  fc.record({ t: fc.constant("readonly" as const), r: fc.nat(), on: fc.boolean() }),
  fc.record({ t: fc.constant("log" as const), r: fc.nat(), on: fc.boolean() }),
  {
    arbitrary: fc.record({
      t: fc.constant("fd" as const),
      r: fc.nat(),
      at: fc.nat(0x10),
      size: fc.constantFrom(0, 1, 2, 4),
      data: fc.nat(3),
      e: fc.nat(2),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ t: fc.constant("unfd" as const), r: fc.nat(), at: fc.nat(0x10) }), weight: 2 },
  fc.record({ t: fc.constant("begin" as const) }),
  fc.record({ t: fc.constant("commit" as const) }),
  fc.record({ t: fc.constant("dirty" as const), on: fc.boolean() }),
  fc.record({ t: fc.constant("space" as const), r: fc.nat() }),
);

describe("replaying the event stream reproduces every address space (memory_region_transaction_begin/_commit, address_space_update_topology_pass, address_space_add_del_ioeventfds)", () => {
  test.prop([fc.array(op, { maxLength: 60 }), fc.constantFrom("none", "tcg", "kvm")], { numRuns: 300 })(
    "after any mutations and nested transactions, each replica holds its space's view and ioeventfds, even beside a failing listener",
    (ops, accel) => {
      const sys = new MemorySystem({ accel: accel as "none" | "tcg" | "kvm" });
      const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
      const ram = new MemoryRegion(sys, { kind: "ram", name: "ram", size: 0x40n });
      const pool: MemoryRegion[] = [
        system,
        ram,
        new MemoryRegion(sys, { kind: "container", name: "c1", size: 0x40n }),
        new MemoryRegion(sys, { kind: "container", name: "c2", size: 0x80n }),
        new MemoryRegion(sys, { kind: "io", name: "io1", size: 0x20n }),
        new MemoryRegion(sys, { kind: "io", name: "io2", size: 0x10n }),
        new MemoryRegion(sys, { kind: "rom", name: "rom", size: 0x10n }),
        new MemoryRegion(sys, { kind: "alias", name: "a1", size: 0x20n, target: ram, offset: 0x10n }),
        new MemoryRegion(sys, { kind: "alias", name: "a2", size: 0x40n, target: ram, offset: 0n }),
      ];
      system.addSubregion(0n, pool[4]!);
      system.addSubregion(0x100n, pool[7]!);
      system.addSubregion(0x200n, pool[2]!);
      pool[2]!.addSubregion(0n, pool[5]!);
      pool[2]!.addSubregion(0x18n, pool[6]!);
      const notifiers: EventNotifier[] = [1, 2, 3].map((id) => ({ id, signal: () => {} }));
      const replicas = new Map<AddressSpace, Replica>();
      const watch = (as: AddressSpace) => {
        const r = replica({ regionNop: true });
        replicas.set(as, r);
        sys.registerListener(r, as);
      };
      const memory = sys.createAddressSpace("memory", system);
      // A listener that fails every 5th callback (a backend fault): the others must not notice.
      let calls = 0;
      const fail = (): void => {
        if (++calls % 5 === 0) throw new Error("injected fault");
      };
      const faulty: MemoryListener = {
        name: "faulty",
        priority: 5,
        begin: fail,
        regionAdd: fail,
        regionDel: fail,
        regionNop: fail,
        eventfdAdd: fail,
        eventfdDel: fail,
        commit: fail,
      };
      watch(memory);
      try {
        sys.registerListener(faulty, memory);
      } catch (error) {
        if (!isInjected(error)) throw error;
      }
      watch(sys.createAddressSpace("cpu-memory-0", system));
      watch(sys.createAddressSpace("c2-space", pool[3]!));

      const check = () => {
        for (const [as, r] of replicas) {
          expect(r.errors).toEqual([]);
          const want = as.currentMap.ranges.map(flatRangeKey);
          expect([...r.ranges].sort()).toEqual([...want].sort());
          const fds = new Map<string, number>();
          for (const f of as.ioeventfds) {
            const k = fdKey(f.start, f.size, f.matchData, f.data, f.notifier);
            fds.set(k, (fds.get(k) ?? 0) + 1);
          }
          expect(r.fds).toEqual(fds);
        }
      };

      const pick = (i: number) => pool[i % pool.length]!;
      for (const o of ops) {
        try {
          switch (o.t) {
            case "add":
              pick(o.parent).addSubregionOverlap(BigInt(o.addr), pick(o.child), o.prio);
              break;
            case "del": {
              const c = pick(o.child);
              c.container?.delSubregion(c);
              break;
            }
            case "enable":
              pick(o.r).setEnabled(o.on);
              break;
            case "move":
              pick(o.r).setAddress(BigInt(o.addr));
              break;
            case "size":
              pick(o.r).setSize(BigInt(o.size));
              break;
            case "readonly":
              pick(o.r).setReadonly(o.on);
              break;
            case "log":
              pick(o.r).setLog(o.on);
              break;
            case "fd":
              pick(o.r).addEventfd(BigInt(o.at), o.size, o.data > 0, BigInt(o.data), notifiers[o.e]!);
              break;
            case "unfd":
              pick(o.r).delEventfd(BigInt(o.at), 0, false, 0n, notifiers[0]!);
              break;
            case "begin":
              sys.begin();
              break;
            case "commit":
              if (sys.depth > 0) sys.commit();
              break;
            case "dirty":
              if (o.on) sys.startDirtyLog();
              else if (sys.globalDirtyTracking !== 0) sys.stopDirtyLog();
              break;
            case "space":
              watch(sys.createAddressSpace(`as${sys.addressSpaces.length}`, pick(o.r)));
              break;
          }
        } catch (error) {
          if (!(error instanceof MemtopoError) || (error.code === "E_LISTENER_FAILED" && !isInjected(error)))
            throw error;
        }
        if (sys.depth === 0) check();
      }
      while (sys.depth > 0) {
        try {
          sys.commit();
        } catch (error) {
          if (!isInjected(error)) throw error;
        }
      }
      check();
    },
  );
});
