import fs from "node:fs";
import path from "node:path";
import { casesDir } from "@memtopo/fixtures";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { loadMachine, MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { formatSize } from "../src/svg/format.js";
import { pictureLanes, regionsAt, renderMemoryMapSvg } from "../src/svg/index.js";
import { DEFAULT_SCALE, log2, placeSegments, segmentsOf, segmentWidth } from "../src/svg/scale.js";

function pcLike() {
  const sys = new MemorySystem();
  const mr = (init: ConstructorParameters<typeof MemoryRegion>[1]) => new MemoryRegion(sys, init);
  const system = mr({ kind: "container", name: "system", size: SIZE_2_64 });
  const ram = mr({ kind: "ram", name: "pc.ram", size: 0x100000n });
  system.addSubregion(0n, mr({ kind: "alias", name: "ram-below-4g", target: ram, offset: 0n, size: 0x100000n }));
  const pci = mr({ kind: "container", name: "pci", size: SIZE_2_64 });
  system.addSubregionOverlap(0n, pci, -1);
  const bios = mr({ kind: "rom", name: "pc.bios", size: 0x10000n });
  pci.addSubregion(0xffff0000n, bios);
  const shadow = mr({ kind: "alias", name: "pam-pci", target: pci, offset: 0xf0000n, size: 0x10000n });
  system.addSubregionOverlap(0xf0000n, shadow, 1);
  pci.addSubregionOverlap(
    0xf0000n,
    mr({ kind: "alias", name: "isa-bios", target: bios, offset: 0n, size: 0x10000n }),
    1,
  );
  const io = mr({ kind: "io", name: 'odd <name> & "quotes"', size: 0x10000n });
  io.addSubregion(0x3f8n, mr({ kind: "io", name: "serial", size: 8n }));
  return {
    spaces: [
      sys.createAddressSpace("memory", system),
      sys.createAddressSpace("cpu-memory-0", system),
      sys.createAddressSpace("I/O", io),
    ],
  };
}

describe("sizes for people", () => {
  it("binary units, one truncated decimal", () => {
    expect(formatSize(1n)).toBe("1 B");
    expect(formatSize(1536n)).toBe("1.5 KiB");
    expect(formatSize(0x1000n)).toBe("4 KiB");
    expect(formatSize(0xfec00000n - 0x8000000n)).toBe("3.8 GiB");
    expect(formatSize(SIZE_2_64)).toBe("16 EiB");
  });
});

describe("the broken log-like axis", () => {
  it("log2 of bigints is exact at powers of two, up to 2^64", () => {
    for (const n of [0, 1, 12, 52, 53, 63, 64]) expect(log2(1n << BigInt(n))).toBeCloseTo(n, 9);
    expect(log2(3n << 60n)).toBeCloseTo(61 + Math.log2(1.5), 9);
  });

  it("a 1-byte range and a 16 EiB range are both legible: widths within a factor of 20", () => {
    const w = (size: bigint) => segmentWidth({ type: "range", start: 0n, end: size, range: undefined as never });
    expect(w(1n)).toBe(DEFAULT_SCALE.minWidth);
    expect(w(SIZE_2_64) / w(1n)).toBeLessThan(20);
    for (let bits = 1n; bits <= 64n; bits++) expect(w(1n << bits)).toBeGreaterThan(w(1n << (bits - 1n)));
  });

  it("unassigned stretches collapse to one fixed-width break, whatever their size", () => {
    const gap = (end: bigint) => segmentWidth({ type: "gap", start: 0n, end });
    expect(gap(2n)).toBe(gap(SIZE_2_64));
  });

  it("segments cover the lane end to end, and rows wrap before the row width", () => {
    const [memory] = pictureLanes(pcLike().spaces);
    const segments = segmentsOf(memory!);
    expect(segments[0]!.start).toBe(0n);
    expect(segments.at(-1)!.end).toBe(SIZE_2_64);
    for (let i = 1; i < segments.length; i++) expect(segments[i]!.start).toBe(segments[i - 1]!.end);
    const placed = placeSegments(segments, { ...DEFAULT_SCALE, rowWidth: 120 });
    expect(new Set(placed.map((p) => p.row)).size).toBeGreaterThan(1);
    for (const p of placed) expect(p.x === 0 || p.x + p.width <= 120).toBe(true);
  });
});

describe("lanes: what the picture says about each range", () => {
  it("one lane per distinct flat view, naming every address space that shares it", () => {
    const lanes = pictureLanes(pcLike().spaces);
    expect(lanes.map((l) => l.spaces)).toEqual([["memory", "cpu-memory-0"], ["I/O"]]);
  });

  it("aliases crossed, the deciding priority and what the winner hides (render_memory_region)", () => {
    const [memory] = pictureLanes(pcLike().spaces);
    const shadow = memory!.ranges.find((r) => r.start === 0xf0000n)!;
    expect(shadow.name).toBe("pc.bios");
    expect(shadow.via).toEqual(["pam-pci", "isa-bios"]);
    expect(shadow.priority).toBe(1);
    expect(shadow.path.map((s) => s.name)).toEqual(["system", "pam-pci", "pci", "isa-bios", "pc.bios"]);
    expect(shadow.beneath).toEqual({ name: "pc.ram", kind: "ram", priority: 0 });
    const low = memory!.ranges.find((r) => r.start === 0n)!;
    expect(low.via).toEqual(["ram-below-4g"]);
    expect(low.beneath).toBeNull();
    // The same region under an alias of itself is hidden too: RAM under a read-only PAM window of it.
    const { spaces } = pcLike();
    const pam = new MemoryRegion(spaces[0]!.root!.host, {
      kind: "alias",
      name: "pam-rom",
      target: spaces[0]!.root!.subregions.find((r) => r.name === "ram-below-4g")!.alias!,
      offset: 0xc0000n,
      size: 0x4000n,
    });
    pam.setReadonly(true); // otherwise the range would merge with the RAM around it
    spaces[0]!.root!.addSubregionOverlap(0xc0000n, pam, 1);
    const shadowed = pictureLanes(spaces)[0]!.ranges.find((r) => r.start === 0xc0000n)!;
    expect(shadowed.via).toEqual(["pam-rom"]);
    expect(shadowed.beneath).toEqual({ name: "pc.ram", kind: "ram", priority: 0 });
    const [, io] = pictureLanes(pcLike().spaces);
    const serial = io!.ranges.find((r) => r.name === "serial")!;
    expect(serial.beneath, "a container that fills its gaps is cut by its child, not hidden").toBeNull();
    const top = memory!.ranges.find((r) => r.start === 0xffff0000n)!;
    expect(top.priority).toBe(-1);
  });

  it("oracle: the walk's winner is the region of the FlatView range, on every conformance case", () => {
    for (const name of fs.readdirSync(casesDir)) {
      const machine = loadMachine(fs.readFileSync(path.join(casesDir, name, "machine.json"), "utf8"));
      for (const as of machine.addressSpaces) {
        const view = as.currentMap;
        for (const range of view.ranges) {
          for (const addr of [range.start, range.start + range.size - 1n]) {
            const winner = regionsAt(view.root!, addr - view.root!.addr).next();
            expect(winner.done, `${name} ${as.name} ${addr}`).toBe(false);
            expect(winner.value!.at(-1)!.mr, `${name} ${as.name} 0x${addr.toString(16)}`).toBe(range.mr);
          }
        }
      }
    }
  });
});

describe("the SVG document", () => {
  it("draws every range and every gap once, with its details as a title", () => {
    const { spaces } = pcLike();
    const svg = renderMemoryMapSvg(spaces, { title: "t" });
    const lanes = pictureLanes(spaces);
    const ranges = lanes.reduce((n, l) => n + l.ranges.length, 0);
    const gaps = lanes.reduce((n, l) => n + segmentsOf(l).filter((s) => s.type === "gap").length, 0);
    expect(svg.match(/<g class="range"/g)!.length).toBe(ranges);
    expect(svg.match(/<g class="gap"/g)!.length).toBe(gaps);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+"/);
    expect(svg).toContain("path: system ▸ pam-pci (alias) prio 1 ▸ pci prio -1 ▸ isa-bios (alias) prio 1 ▸ pc.bios");
  });

  it("escapes names: a region name cannot break the document", () => {
    const svg = renderMemoryMapSvg(pcLike().spaces);
    expect(svg).not.toContain("<name>");
    expect(svg).toContain("odd &#60;name&#62; &#38; &#34;quotes&#34;");
  });

  it("is deterministic", () => {
    expect(renderMemoryMapSvg(pcLike().spaces)).toBe(renderMemoryMapSvg(pcLike().spaces));
  });
});
