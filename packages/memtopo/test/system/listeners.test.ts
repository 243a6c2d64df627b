import { ListenerCallbackError, type MemoryListener } from "@memtopo/listener-bus";
import { DIRTY_LOG_CODE, DIRTY_LOG_MIGRATION, MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { MemorySystem } from "../../src/index.js";
import { notifier, recorder } from "./recorder.js";

function machine(accel: "kvm" | "tcg" | "none" = "none") {
  const sys = new MemorySystem({ accel });
  const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  const ram = new MemoryRegion(sys, { kind: "ram", name: "ram", size: 0x10000n });
  const mmio = new MemoryRegion(sys, { kind: "io", name: "mmio", size: 0x1000n });
  system.addSubregion(0n, ram);
  system.addSubregion(0x100000n, mmio);
  const memory = sys.createAddressSpace("memory", system);
  return { sys, system, ram, mmio, memory };
}

describe("replay through the MemorySystem (listener_add_address_space)", () => {
  it("a late listener hears the existing ioeventfds (as QEMU 8.0 and later replay them), and loses them on unregister", () => {
    const { sys, mmio, memory } = machine();
    const e = notifier();
    mmio.addEventfd(0x10n, 4, false, 0n, e);
    const log: string[] = [];
    const l = recorder(log, "late");
    sys.registerListener(l, memory);
    expect(log).toEqual([
      "late:begin",
      "late:add 0-10000 ram@0",
      "late:add 100000-101000 mmio@0",
      `late:eventfd_add 100010/4 e${e.id}`,
      "late:commit",
    ]);
    log.length = 0;
    sys.unregisterListener(l);
    expect(log).toEqual([
      "late:begin",
      "late:del 0-10000 ram@0",
      "late:del 100000-101000 mmio@0",
      `late:eventfd_del 100010/4 e${e.id}`,
      "late:commit",
    ]);
    expect(sys.listeners).toEqual([]);
    expect(() => sys.unregisterListener(l)).toThrow(expect.objectContaining({ code: "E_LISTENER_NOT_REGISTERED" }));
  });

  it("registering the same listener twice is a typed error and changes nothing", () => {
    const { sys, memory } = machine();
    const log: string[] = [];
    const l = recorder(log, "L");
    sys.registerListener(l, memory);
    log.length = 0;
    expect(() => sys.registerListener(l, memory)).toThrow(expect.objectContaining({ code: "E_LISTENER_REGISTERED" }));
    expect(log).toEqual([]);
    expect(sys.listenersOf(memory)).toEqual([l]);
  });
});

describe("dirty logging (memory_global_dirty_log_start/_stop)", () => {
  it("global start: log_global_start (Forward), then a topology commit: region_nop + log_start for migratable RAM", () => {
    const { sys, memory } = machine();
    const log: string[] = [];
    sys.registerListener(recorder(log, "A", 0), memory);
    sys.registerListener(recorder(log, "B", 1), memory);
    log.length = 0;
    sys.startDirtyLog();
    expect(log).toEqual([
      "A:log_global_start",
      "B:log_global_start",
      "A:begin",
      "B:begin",
      "A:nop 0-10000 ram@0",
      "B:nop 0-10000 ram@0",
      "A:log_start 0-10000 ram@0 0->4",
      "B:log_start 0-10000 ram@0 0->4",
      "A:nop 100000-101000 mmio@0",
      "B:nop 100000-101000 mmio@0",
      "A:commit",
      "B:commit",
    ]);
    log.length = 0;
    sys.startDirtyLog(2);
    expect(log).toEqual([]);
    expect(sys.globalDirtyTracking).toBe(3);
    sys.stopDirtyLog(2);
    expect(log).toEqual([]);
    sys.stopDirtyLog();
    expect(log).toEqual([
      "A:begin",
      "B:begin",
      "A:nop 0-10000 ram@0",
      "B:nop 0-10000 ram@0",
      "B:log_stop 0-10000 ram@0 4->0",
      "A:log_stop 0-10000 ram@0 4->0",
      "A:nop 100000-101000 mmio@0",
      "B:nop 100000-101000 mmio@0",
      "A:commit",
      "B:commit",
      "B:log_global_stop",
      "A:log_global_stop",
    ]);
    expect(() => sys.stopDirtyLog()).toThrow(expect.objectContaining({ code: "E_DIRTY_LOG_NOT_STARTED" }));
    expect(() => sys.startDirtyLog(8)).toThrow(expect.objectContaining({ code: "E_INVALID_ARGUMENT" }));
  });

  it("a global stop while the VM is stopped is postponed until it runs; a start in between cancels what it covers (memory_global_dirty_log_stop)", () => {
    const { sys, memory } = machine();
    const log: string[] = [];
    sys.registerListener(recorder(log, "L"), memory);
    sys.startDirtyLog(1 | 2);
    sys.setVmRunning(false);
    log.length = 0;
    sys.stopDirtyLog(1);
    sys.stopDirtyLog(2);
    expect(log).toEqual([]);
    expect(sys.globalDirtyTracking).toBe(3);
    sys.setVmRunning(true);
    expect(sys.globalDirtyTracking).toBe(0);
    expect(log.at(-1)).toBe("L:log_global_stop");
    expect(log).toContain("L:log_stop 0-10000 ram@0 4->0");

    sys.startDirtyLog(1 | 2);
    sys.setVmRunning(false);
    sys.stopDirtyLog(1 | 2);
    log.length = 0;
    sys.startDirtyLog(1); // cancels the postponed stop of 1; the stop of 2 runs now, tracking stays on
    expect(sys.globalDirtyTracking).toBe(1);
    expect(log).toEqual([]);
    sys.setVmRunning(true);
    expect(sys.globalDirtyTracking).toBe(1);
    expect(() => sys.setVmRunning("yes" as never)).toThrow(expect.objectContaining({ code: "E_INVALID_ARGUMENT" }));
  });

  it("a listener registered while tracking is on gets log_global_start and log_start in its replay", () => {
    const { sys, memory } = machine();
    sys.startDirtyLog();
    const log: string[] = [];
    sys.registerListener(recorder(log, "L"), memory);
    expect(log).toEqual([
      "L:begin",
      "L:log_global_start",
      "L:add 0-10000 ram@0",
      "L:log_start 0-10000 ram@0 0->4",
      "L:add 100000-101000 mmio@0",
      "L:commit",
    ]);
  });

  it("the render-time mask: CODE under TCG for anything with a RAM block, MIGRATION not for RAM devices", () => {
    const { sys, system, ram, mmio, memory } = machine("tcg");
    const dev = new MemoryRegion(sys, { kind: "ram-device", name: "bar", size: 0x1000n });
    system.addSubregion(0x200000n, dev);
    expect(sys.dirtyLogMask(ram)).toBe(DIRTY_LOG_CODE);
    expect(sys.dirtyLogMask(mmio)).toBe(0);
    sys.startDirtyLog();
    expect(sys.dirtyLogMask(ram)).toBe(DIRTY_LOG_CODE | DIRTY_LOG_MIGRATION);
    expect(sys.dirtyLogMask(dev)).toBe(DIRTY_LOG_CODE);
    expect(memory.currentMap.ranges.map((r) => r.dirtyLogMask)).toEqual([6, 0, 2]);
    expect(machine("kvm").sys.dirtyLogMask(machine("kvm").ram)).toBe(0);
  });

  it("sync: logSync per range with a non-zero mask of the listener's own space; logSyncGlobal otherwise", () => {
    const { sys, ram, memory } = machine();
    ram.setLog(true);
    const seen: string[] = [];
    sys.registerListener({ logSync: (s) => seen.push(`sync ${s.mr?.name}`) }, memory);
    sys.registerListener({ logSyncGlobal: () => seen.push("global") }, memory);
    sys.syncDirtyLog();
    expect(seen).toEqual(["sync ram", "global"]);
  });
});

describe("listener failures", () => {
  it("a failing callback does not interrupt the commit: others see the whole stream, then a typed error is thrown", () => {
    const { sys, system, memory } = machine();
    const log: string[] = [];
    const fault = new Error("KVM_SET_USER_MEMORY_REGION: EEXIST");
    const failing: MemoryListener = {
      name: "kvm",
      priority: 10,
      regionAdd: (s) => {
        if (s.mr?.name === "new") throw fault;
      },
    };
    sys.registerListener(recorder(log, "dev"), memory);
    sys.registerListener(failing, memory);
    log.length = 0;
    const fresh = new MemoryRegion(sys, { kind: "ram", name: "new", size: 0x1000n });
    let thrown: unknown;
    try {
      system.addSubregion(0x200000n, fresh);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ListenerCallbackError);
    expect(thrown).toMatchObject({ code: "E_LISTENER_FAILED", cause: fault });
    expect((thrown as ListenerCallbackError).failures).toEqual([
      { listener: failing, callback: "regionAdd", error: fault },
    ]);
    // the state is the committed one: tree, view, pending flags, depth
    expect(log.at(-1)).toBe("dev:commit");
    expect(log).toContain("dev:add 200000-201000 new@0");
    expect(fresh.container).toBe(system);
    expect(memory.currentMap.ranges.map((r) => r.mr.name)).toEqual(["ram", "mmio", "new"]);
    expect(sys.depth).toBe(0);
    expect(sys.topologyPending).toBe(false);
    // and the next commit works normally
    log.length = 0;
    fresh.setEnabled(false);
    expect(log).toContain("dev:del 200000-201000 new@0");
  });

  it("a listener may not start a transaction, register or unregister from a callback (E_REENTRANT); the mutation is not done", () => {
    const { sys, system, ram, memory } = machine();
    const other = new MemoryRegion(sys, { kind: "ram", name: "o", size: 0x1000n });
    let inner: unknown;
    sys.registerListener(
      {
        name: "meddler",
        regionAdd: (s) => {
          if (s.mr !== other) return;
          try {
            ram.setEnabled(false);
          } catch (error) {
            inner = error;
            throw error;
          }
        },
      },
      memory,
    );
    expect(() => system.addSubregion(0x300000n, other)).toThrow(expect.objectContaining({ code: "E_LISTENER_FAILED" }));
    expect(inner).toMatchObject({ code: "E_REENTRANT" });
    expect(ram.enabled).toBe(true);
    expect(sys.depth).toBe(0);
  });

  it("a failing replay runs the stream to its end, reports, and leaves the listener unregistered", () => {
    const { sys, memory } = machine();
    const seen: string[] = [];
    const l: MemoryListener = {
      regionAdd: (s) => {
        seen.push(s.mr!.name!);
        throw new Error("no");
      },
      commit: () => seen.push("commit"),
    };
    expect(() => sys.registerListener(l, memory)).toThrow(ListenerCallbackError);
    expect(seen).toEqual(["ram", "mmio", "commit"]);
    // It does not know the space's state, so it is not registered: a retry is a fresh registration.
    expect(sys.listenersOf(memory)).toEqual([]);
  });
});
