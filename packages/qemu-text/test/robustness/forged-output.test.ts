import { MemoryRegion, MemtopoError } from "@memtopo/region-tree";
import { FORGED_NAMES } from "@memtopo/test-support";
import { loadMachine, MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { importQemu, printMtree, printMtreeFlat } from "../../src/index.js";

// Output that can be forged: every printed name and message escapes control characters the same way
// (escapeText), import-qemu reads them back, and messages cut long values.

/** Control characters, DEL/C1, line and bidi controls, non-characters, lone surrogates: none may be printed. */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: what the test looks for.
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function machineWithNames(names: readonly string[]) {
  const system = new MemorySystem();
  const root = new MemoryRegion(system, { kind: "container", name: "system", size: 1n << 32n });
  names.forEach((name, i) => {
    const ram = new MemoryRegion(system, { kind: "ram", name, size: 0x1000n });
    root.addSubregion(BigInt(i) * 0x10000n, ram);
    const alias = new MemoryRegion(system, {
      kind: "alias",
      name: `${name}-alias`,
      target: ram,
      offset: 0n,
      size: 0x800n,
    });
    root.addSubregion(0x8000_0000n + BigInt(i) * 0x10000n, alias);
  });
  const spaces = [system.createAddressSpace("memory", root), system.createAddressSpace(names[1]!, root)];
  return { system, root, spaces };
}

describe("names printed by info mtree and -f", () => {
  it("no control character reaches the text, each region is one line, nothing fake appears", () => {
    const { spaces } = machineWithNames(FORGED_NAMES);
    for (const text of [printMtree(spaces), printMtree(spaces, { disabled: true }), printMtreeFlat(spaces)]) {
      expect(text).not.toMatch(UNSAFE);
      // The fake range is inside a name's line, never a line of its own.
      expect(text).toContain("fake-ram-over-apic");
      expect(text).not.toMatch(/^\s*00000000fee00000-00000000fee00fff/m);
    }
    const tree = printMtree(spaces);
    expect(tree).toContain("): pci\\x0a    00000000fee00000-00000000fee00fff (prio 9, ram): fake-ram-over-apic\n");
    expect(tree).toContain("): back\\\\slash\\\\x41\n");
    expect(tree).toContain("): lone \\u{d800} surrogate \\u{dc00}\n");
    expect(tree).toContain("): emoji 🙂 and ü\n");
  });

  it("import-qemu reads them back: the round trip keeps every name, and prints the same text", () => {
    const { spaces } = machineWithNames(FORGED_NAMES);
    const tree = printMtree(spaces, { disabled: true });
    const flat = printMtreeFlat(spaces);
    const { machine } = importQemu({ tree, flat });
    const loaded = loadMachine(machine);
    const names = new Set<string>();
    const walk = (mr: MemoryRegion): void => {
      if (mr.name !== null) names.add(mr.name);
      for (const s of mr.subregions) walk(s);
    };
    walk(loaded.addressSpaces[0]!.root!);
    for (const name of FORGED_NAMES) {
      expect(names).toContain(name);
      expect(names).toContain(`${name}-alias`);
    }
    expect(loaded.addressSpaces.map((as) => as.name).sort()).toEqual(["memory", FORGED_NAMES[1]!].sort());
    expect(printMtree(loaded.addressSpaces, { disabled: true, order: loaded.mtreeOrder })).toBe(tree);
    expect(printMtreeFlat(loaded.addressSpaces)).toBe(flat);
  });
});

describe("error messages", () => {
  function messageOf(run: () => unknown): string {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(MemtopoError);
      return (error as Error).message;
    }
    throw new Error("nothing was thrown");
  }

  it("echo names, ids and fields escaped", () => {
    const system = new MemorySystem();
    const root = new MemoryRegion(system, { kind: "container", name: "clear\u001b[2J", size: 0x1000n });
    const child = new MemoryRegion(system, { kind: "ram", name: "memtopo: ok\r\n", size: 0x1000n });
    root.addSubregion(0n, child);
    const messages = [
      messageOf(() => root.addSubregion(0n, child)),
      messageOf(() =>
        loadMachine({
          format: "memtopo-machine/1",
          accel: "tcg",
          addressSpaces: [{ name: "m", root: "\u001b[2J" }],
          regions: [],
        }),
      ),
      messageOf(() => loadMachine({ format: "memtopo-machine/1", "\u0007bell": 1 })),
      messageOf(() => importQemu({ tree: "address-space: memory\n\u001b[31mred\n" })),
    ];
    for (const m of messages) expect(m).not.toMatch(UNSAFE);
    expect(messages[0]).toContain('"memtopo: ok\\x0d\\x0a"');
    expect(messages[1]).toContain('no region has id "\\x1b[2J"');
    expect(messages[2]).toContain('unknown field "\\x07bell"');
  });

  it("cut long values: a 100 000-digit size is not echoed whole", () => {
    const huge = `0x${"f".repeat(100_000)}`;
    const m = messageOf(() =>
      loadMachine({
        format: "memtopo-machine/1",
        accel: "tcg",
        addressSpaces: [],
        regions: [{ id: "a", name: "a", kind: "ram", size: huge }],
      }),
    );
    expect(m.length).toBeLessThan(300);
    expect(m).toContain("more characters)");
    const system = new MemorySystem();
    const m2 = messageOf(() => new MemoryRegion(system, { kind: "ram", name: "x", size: 1n << 400_000n }));
    expect(m2.length).toBeLessThan(300);
    const m3 = messageOf(() => loadMachine({ format: "memtopo-machine/1", ["k".repeat(100_000)]: 1 }));
    expect(m3.length).toBeLessThanOrEqual(2100);
  });

  it("a document that is not a machine at all ({}) says the format is missing", () => {
    expect(messageOf(() => loadMachine({}))).toBe(
      'format: expected "memtopo-machine/1", got nothing (the field is missing)',
    );
  });
});
