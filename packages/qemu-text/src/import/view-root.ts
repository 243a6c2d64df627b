import { flatViewRootStep } from "@memtopo/flatview";
import type { ImportRegion } from "./model.js";

/** One way the tree can resolve to a view's root: the root and the i/o regions skipped on the way. */
export interface Resolution {
  readonly root: ImportRegion | null;
  readonly skipped: readonly ImportRegion[];
}

/**
 * QEMU's flat-view root (`memory_region_get_flatview_root`), followed over the recovered tree: an
 * `i/o` region may be a container (skipped when it holds one enabled child at 0 that
 * fits, the empty view when it holds none) or render itself (the root), so every point
 * of the chain named like the view's root is a candidate; `(none)` is reached by a
 * disabled region or a container without enabled children.
 */
export function resolutions(asRoot: ImportRegion, viewRoot: string | null): Resolution[] {
  const out: Resolution[] = [];
  const skipped: ImportRegion[] = [];
  let r: ImportRegion = asRoot;
  for (;;) {
    if (r.enabled && r.name === viewRoot) out.push({ root: r, skipped: [...skipped] });
    const next = flatViewRootStep(r, asContainer(r));
    if (next === r) return out;
    // A disabled region, or a container without enabled children (which is then skipped): the empty view.
    if (next === null) {
      if (viewRoot === null) out.push({ root: null, skipped: r.enabled ? [...skipped, r] : [...skipped] });
      return out;
    }
    if (r.alias === null) skipped.push(r);
    r = next;
  }
}

/** An `i/o` region may be a container: the chain looks at its children as QEMU would at a container's. */
function asContainer(r: ImportRegion): readonly ImportRegion[] | null {
  return r.alias === null && r.type === "i/o" ? r.children : null;
}

/** Records what a chosen resolution says: skipped regions are containers, an i/o root that would have been skipped renders itself. */
export function applyResolution(res: Resolution): void {
  for (const c of res.skipped) c.mustBeContainer = true;
  const root = res.root;
  if (root?.alias != null && flatViewRootStep(root, null) === root.alias) {
    // A full-size alias would have been skipped: a `start-start` one is empty, over a
    // `start-start` target that is not.
    const target = root.alias;
    if (root.node.start === root.node.end) {
      root.size = 0n;
      root.sizeSettled = true;
    }
    if (target.node.start === target.node.end && target.size === 0n) {
      target.size = 1n;
      target.sizeSettled = true;
    }
    return;
  }
  // A container the chain would have gone past (to its one child, or to the empty view) rendered itself: it is i/o.
  if (root === null || root.alias !== null || root.type !== "i/o") return;
  if (flatViewRootStep(root, root.children) !== root) root.mustBeIo = true;
}
