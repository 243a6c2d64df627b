import { describe, expect, it } from "vitest";
import { ListenerCalls, ListenerRegistry, type MemoryListener } from "../src/index.js";

const as1 = { name: "memory" };
const as2 = { name: "I/O" };
const l = (name: string, priority?: number): MemoryListener => ({
  name,
  ...(priority === undefined ? {} : { priority }),
});
const names = (list: readonly MemoryListener[]) => list.map((x) => x.name);

describe("registration order (memory_listener_register)", () => {
  it("ascending priority, equal priorities in registration order, in the global and per-space lists", () => {
    const reg = new ListenerRegistry();
    reg.add(l("a", 10), as1);
    reg.add(l("b", 0), as2);
    reg.add(l("c", 10), as1);
    reg.add(l("d", 5), as1);
    reg.add(l("e"), as1);
    reg.add(l("f", 0), as2);
    expect(names(reg.global)).toEqual(["b", "e", "f", "d", "a", "c"]);
    expect(names(reg.of(as1))).toEqual(["e", "d", "a", "c"]);
    expect(names(reg.of(as2))).toEqual(["b", "f"]);
  });

  it("a listener inserted below the last goes before the first of strictly greater priority", () => {
    const reg = new ListenerRegistry();
    for (const [n, p] of [
      ["x", 1],
      ["y", 3],
      ["z", 3],
    ] as const)
      reg.add(l(n, p), as1);
    reg.add(l("w", 1), as1);
    reg.add(l("v", 2), as1);
    expect(names(reg.global)).toEqual(["x", "w", "v", "y", "z"]);
  });

  it("removal unlinks from both lists; a removed listener can register again at the end of its group", () => {
    const reg = new ListenerRegistry();
    const a = l("a");
    reg.add(a, as1);
    reg.add(l("b"), as1);
    expect(reg.remove(a)).toBe(as1);
    reg.add(a, as2);
    expect(names(reg.global)).toEqual(["b", "a"]);
    expect(names(reg.of(as1))).toEqual(["b"]);
    expect(reg.addressSpaceOf(a)).toBe(as2);
  });

  it("misuse is typed and leaves the lists unchanged", () => {
    const reg = new ListenerRegistry();
    const a = l("a");
    reg.add(a, as1);
    expect(() => reg.add(a, as2)).toThrow(expect.objectContaining({ code: "E_LISTENER_REGISTERED" }));
    expect(() => reg.add(l("n", -1), as1)).toThrow(expect.objectContaining({ code: "E_INVALID_LISTENER" }));
    expect(() => reg.add(l("n", 1.5), as1)).toThrow(expect.objectContaining({ code: "E_INVALID_LISTENER" }));
    const both: MemoryListener = { logSync: () => {}, logSyncGlobal: () => {} };
    expect(() => reg.add(both, as1)).toThrow(expect.objectContaining({ code: "E_INVALID_LISTENER" }));
    for (const callback of ["regionAdd", "coalescedIoDel", "commit"]) {
      const bad = { [callback]: 5 } as unknown as MemoryListener;
      expect(() => reg.add(bad, as1)).toThrow(
        expect.objectContaining({ code: "E_INVALID_LISTENER", message: expect.stringContaining(callback) }),
      );
    }
    expect(() => reg.remove(l("x"))).toThrow(expect.objectContaining({ code: "E_LISTENER_NOT_REGISTERED" }));
    expect(names(reg.global)).toEqual(["a"]);
  });
});

describe("Forward and Reverse (MEMORY_LISTENER_CALL)", () => {
  it("Forward walks head to tail, Reverse tail to head; missing callbacks are skipped", () => {
    const log: string[] = [];
    const mk = (name: string, priority: number): MemoryListener => ({ name, priority, begin: () => log.push(name) });
    const reg = new ListenerRegistry();
    reg.add(mk("p10", 10), as1);
    reg.add(mk("p0", 0), as1);
    reg.add(l("silent", 5), as1);
    reg.add(mk("p0b", 0), as1);
    const calls = new ListenerCalls();
    calls.forward(reg.global, "begin");
    calls.reverse(reg.global, "begin");
    expect(log).toEqual(["p0", "p0b", "p10", "p10", "p0b", "p0"]);
  });

  it("a throwing callback is recorded, the walk goes on, and throwIfFailed reports every failure", () => {
    const log: string[] = [];
    const boom = new Error("boom");
    const list: MemoryListener[] = [
      { name: "a", begin: () => log.push("a") },
      {
        name: "b",
        begin: () => {
          throw boom;
        },
      },
      { name: "c", begin: () => log.push("c") },
    ];
    const calls = new ListenerCalls();
    calls.forward(list, "begin");
    expect(log).toEqual(["a", "c"]);
    expect(() => calls.throwIfFailed("commit")).toThrow(
      expect.objectContaining({
        code: "E_LISTENER_FAILED",
        cause: boom,
        failures: [expect.objectContaining({ callback: "begin" })],
      }),
    );
  });
});
