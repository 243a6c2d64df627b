import type { MemoryRegion } from "@memtopo/region-tree";

/**
 * QEMU's `memory_region_get_flatview_root`: the region a view is rendered from.
 * Full-size offset-0 aliases are replaced by their target and a container whose only
 * enabled child sits at 0 and fits is replaced by that child, so address spaces that
 * differ only by such wrappers share one view. The skipped regions' `addr`, `readonly`
 * and `nonvolatile` are lost on the way, and a container with no enabled child (or a
 * disabled region) resolves to null: the empty view.
 */
export function getFlatViewRoot(root: MemoryRegion | null): MemoryRegion | null {
  let mr = root;
  while (mr?.enabled) {
    if (mr.alias !== null) {
      if (mr.aliasOffset === 0n && mr.size >= mr.alias.size) {
        mr = mr.alias;
        continue;
      }
    } else if (!mr.terminates) {
      let found = 0;
      let next: MemoryRegion | null = null;
      for (const child of mr.subregions) {
        if (!child.enabled) continue;
        if (++found > 1) {
          next = null;
          break;
        }
        if (child.addr === 0n && mr.size >= child.size) next = child;
      }
      if (found === 0) return null;
      if (next !== null) {
        mr = next;
        continue;
      }
    }
    return mr;
  }
  return null;
}
