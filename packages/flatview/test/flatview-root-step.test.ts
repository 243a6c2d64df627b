import { describe, expect, it } from "vitest";
import { flatViewRootStep, type RootChainRegion } from "../src/index.js";

/** A plain region, as the QEMU text importer has them: the step needs no MemoryRegion. */
interface Plain extends RootChainRegion<Plain> {
  readonly name: string;
}
const r = (name: string, over: Partial<Plain> = {}): Plain => ({
  name,
  enabled: true,
  addr: 0n,
  size: 0x1000n,
  alias: null,
  aliasOffset: 0n,
  ...over,
});

describe("one step of the flat-view root chain (memory_region_get_flatview_root)", () => {
  it("a disabled region ends the chain in the empty view", () => {
    expect(flatViewRootStep(r("off", { enabled: false }), [r("child")])).toBeNull();
    expect(flatViewRootStep(r("off", { enabled: false, alias: r("t") }), null)).toBeNull();
  });

  it("a full-size offset-0 alias is replaced by its target; any other alias is the root", () => {
    const target = r("t");
    expect(flatViewRootStep(r("a", { alias: target }), null)).toBe(target);
    expect(flatViewRootStep(r("a", { alias: target, size: 0x2000n }), null)).toBe(target);
    const offset = r("a", { alias: target, aliasOffset: 0x10n });
    expect(flatViewRootStep(offset, null)).toBe(offset);
    const short = r("a", { alias: target, size: 0x800n });
    expect(flatViewRootStep(short, null)).toBe(short);
  });

  it("a container is replaced by its only enabled child when that sits at 0 and fits", () => {
    const child = r("c");
    expect(flatViewRootStep(r("box"), [r("x", { enabled: false }), child])).toBe(child);
  });

  it("a container stays the root when its one child is not at 0, does not fit, or has an enabled sibling", () => {
    for (const kids of [
      [r("c", { addr: 0x10n })],
      [r("c", { size: 0x2000n })],
      [r("c"), r("d", { addr: 0x800n, size: 0x10n })],
    ]) {
      const box = r("box");
      expect(flatViewRootStep(box, kids)).toBe(box);
    }
  });

  it("a container without an enabled child is the empty view; a region that renders itself is the root", () => {
    expect(flatViewRootStep(r("box"), [])).toBeNull();
    expect(flatViewRootStep(r("box"), [r("x", { enabled: false })])).toBeNull();
    const ram = r("ram");
    expect(flatViewRootStep(ram, null)).toBe(ram);
  });
});
