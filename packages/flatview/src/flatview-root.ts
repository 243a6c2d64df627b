import type { MemoryRegion } from "@memtopo/region-tree";

/** What {@link flatViewRootStep} needs of a region: a `MemoryRegion`, or a region recovered from QEMU's text. */
export interface RootChainRegion<R> {
  readonly enabled: boolean;
  readonly addr: bigint;
  readonly size: bigint;
  readonly alias: R | null;
  readonly aliasOffset: bigint;
}

/**
 * One step of QEMU's `memory_region_get_flatview_root`, the one home of its rule: where the chain
 * goes from `mr`. A disabled region ends it in the empty view (null). A full-size offset-0 alias
 * is replaced by its target, and a container (`children` non-null; null for a region that renders
 * itself) whose only enabled child sits at 0 and fits is replaced by that child; a container with
 * no enabled child is the empty view (null). Anything else is the root: `mr` itself is returned.
 */
export function flatViewRootStep<R extends RootChainRegion<R>>(mr: R, children: Iterable<R> | null): R | null {
  if (!mr.enabled) return null;
  if (mr.alias !== null) return mr.aliasOffset === 0n && mr.size >= mr.alias.size ? mr.alias : mr;
  if (children === null) return mr;
  let only: R | null = null;
  let enabled = 0;
  for (const child of children) {
    if (!child.enabled) continue;
    if (++enabled > 1) return mr;
    only = child;
  }
  if (only === null) return null;
  return only.addr === 0n && mr.size >= only.size ? only : mr;
}

/** The children {@link flatViewRootStep} looks at: a region that does not terminate is a container. */
export function rootChainChildren(mr: MemoryRegion): readonly MemoryRegion[] | null {
  return mr.alias === null && !mr.terminates ? mr.subregions : null;
}

/**
 * QEMU's `memory_region_get_flatview_root`: the region a view is rendered from, following
 * {@link flatViewRootStep} until it stops, so address spaces that differ only by such wrappers
 * share one view. The skipped regions' `addr`, `readonly` and `nonvolatile` are lost on the way,
 * and a container with no enabled child (or a disabled region) resolves to null: the empty view.
 */
export function getFlatViewRoot(root: MemoryRegion | null): MemoryRegion | null {
  let mr = root;
  while (mr !== null) {
    const next = flatViewRootStep(mr, rootChainChildren(mr));
    if (next === mr) return mr;
    mr = next;
  }
  return null;
}
