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
    if (!r.enabled) {
      if (viewRoot === null) out.push({ root: null, skipped: [...skipped] });
      return out;
    }
    if (r.name === viewRoot) out.push({ root: r, skipped: [...skipped] });
    if (r.alias !== null) {
      if (r.aliasOffset !== 0n || r.size < r.alias.size) return out;
      r = r.alias;
      continue;
    }
    if (r.type !== "i/o") return out;
    const enabled = r.children.filter((c) => c.enabled);
    if (enabled.length === 0) {
      if (viewRoot === null) out.push({ root: null, skipped: [...skipped, r] });
      return out;
    }
    const only = enabled.length === 1 ? enabled[0]! : null;
    if (only === null || only.addr !== 0n || r.size < only.size) return out;
    skipped.push(r);
    r = only;
  }
}

/** Records what a chosen resolution says: skipped regions are containers, an i/o root that would have been skipped renders itself. */
export function applyResolution(res: Resolution): void {
  for (const c of res.skipped) c.mustBeContainer = true;
  const root = res.root;
  if (root?.alias != null && root.aliasOffset === 0n && root.size >= root.alias.size) {
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
  if (root === null || root.alias !== null || root.type !== "i/o") return;
  const enabled = root.children.filter((c) => c.enabled);
  const only = enabled.length === 1 ? enabled[0]! : null;
  if (enabled.length === 0 || (only !== null && only.addr === 0n && root.size >= only.size)) root.mustBeIo = true;
}
