import { formatError } from "../errors.js";
import type { ImportRegion, RegionModel } from "./model.js";

/**
 * QEMU cannot print a tree whose aliases lead back into themselves, but a damaged or
 * hand-edited text can name one (an alias of `pci` copied in under `pci`). Everything
 * after this point walks aliases, so such a text is refused here, with the line of the
 * alias that closes the ring, as the loader refuses the same ring in a machine file.
 */
const OPEN = 1;
const DONE = 2;

export function refuseCycles(model: RegionModel): void {
  // Colours by region index (0: not met), not a map entry per region.
  const state = new Uint8Array(model.regions.length);
  for (const top of model.tops) {
    // Iterative depth-first walk over subregions and alias targets: a text may nest deeply.
    const stack: { r: ImportRegion; next: number }[] = [{ r: top, next: 0 }];
    state[top.index] = OPEN;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const { r } = frame;
      // The alias target first, then the subregions, read in place: a copy per step cost n^2 for n children.
      if (frame.next === r.children.length + (r.alias === null ? 0 : 1)) {
        state[r.index] = DONE;
        stack.pop();
        continue;
      }
      const i = frame.next++;
      const to = r.alias === null ? r.children[i]! : i === 0 ? r.alias : r.children[i - 1]!;
      const seen = state[to.index];
      if (seen === DONE) continue;
      if (seen === OPEN) {
        const from = stack.findIndex((f) => f.r === to);
        const ring = stack.slice(from).map((f) => f.r);
        const culprit = ring.find((r) => r.alias !== null) ?? frame.r;
        formatError(
          "E_MACHINE_CYCLE",
          `line ${culprit.node.line}`,
          `aliases and subregions form a cycle: ${[...ring, to].map((r) => r.name).join(" -> ")}`,
        );
      }
      state[to.index] = OPEN;
      stack.push({ r: to, next: 0 });
    }
  }
}
