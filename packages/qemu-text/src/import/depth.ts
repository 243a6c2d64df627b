import { MAX_NESTING } from "memtopo";
import { formatError } from "../errors.js";
import type { ImportRegion, RegionModel } from "./model.js";

/**
 * A text may chain aliases as long as it likes (each target a `memory-region:` section of its
 * own), but the machine file it becomes may not be deeper than {@link MAX_NESTING}: the loader
 * measures each region's height (the longest chain of alias targets and subregions below it,
 * counting itself) and refuses the file. The same height is measured here, on the model that
 * becomes the file, so the text is refused with the line of the region, before any walk over
 * the model that follows aliases. Iterative: the chain may be any length. Runs after
 * {@link refuseCycles}, so the graph has no cycle.
 */
export function refuseDeepChains(model: RegionModel): void {
  // Heights by region index (0: not measured yet; a height is at least 1), not a map entry per region.
  const height = new Uint16Array(model.regions.length);
  for (const top of model.tops) {
    if (height[top.index] !== 0) continue;
    const stack: { r: ImportRegion; next: number }[] = [{ r: top, next: 0 }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const { r } = frame;
      const edges = r.children.length + (r.alias === null ? 0 : 1);
      if (frame.next < edges) {
        const i = frame.next++;
        const to = r.alias === null ? r.children[i]! : i === 0 ? r.alias : r.children[i - 1]!;
        if (height[to.index] === 0) stack.push({ r: to, next: 0 });
        continue;
      }
      let below = r.alias === null ? 0 : height[r.alias.index]!;
      for (const c of r.children) below = Math.max(below, height[c.index]!);
      if (below + 1 > MAX_NESTING) {
        formatError(
          "E_MACHINE_DEPTH",
          `line ${r.node.line}`,
          `aliases and subregions chain deeper than ${MAX_NESTING} levels below this region; a machine file holds at most ${MAX_NESTING}`,
        );
      }
      height[r.index] = below + 1;
      stack.pop();
    }
  }
}
