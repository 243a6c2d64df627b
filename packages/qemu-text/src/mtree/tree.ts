import { escapeText, type MemoryRegion, wrap64 } from "@memtopo/region-tree";
import type { AddressSpaceShape } from "memtopo";
import { hex16, mrSize, ownerSuffix, regionName } from "./format.js";
import { TextSink } from "./text-sink.js";

export interface TreeOptions {
  /** `-D`: print disabled regions with ` [disabled]`. */
  readonly disabled?: boolean;
  /** `-o`: print owners (best effort, see {@link ownerSuffix}). */
  readonly owner?: boolean;
  /**
   * Roots whose blocks come first, in this order (QEMU's own order, which is a hash table's: an imported
   * machine's `mtreeOrder`); the other blocks follow in creation order.
   */
  readonly order?: readonly MemoryRegion[];
}

/** QEMU's strcmp order of address-space names: byte-wise over UTF-8. */
/**
 * `names` (in creation order) as GLib's sorted insert leaves them, one at a time: by their UTF-8 bytes, and among
 * equal names the later-created first. Sorted once, each name's bytes made once: inserting one by one was
 * quadratic in the spaces sharing a root.
 */
export function sortedInsertOrder(names: readonly string[]): string[] {
  const keyed = names.map((name, seq) => ({ name, seq, bytes: Buffer.from(name, "utf8") }));
  keyed.sort((a, b) => Buffer.compare(a.bytes, b.bytes) || b.seq - a.seq);
  return keyed.map((k) => k.name);
}

/**
 * `info mtree` / `info mtree -D`: one block per distinct root region, headed by the
 * names of the spaces using it (sorted by name; among equal names the later-created
 * first, as GLib's sorted insert does), then one `memory-region:` section for every
 * alias target met while printing, in the order first met. QEMU prints the blocks in
 * hash-table order; here they follow `order`, then the creation order of each root's first space.
 */
export function printMtree(spaces: readonly AddressSpaceShape[], options: TreeOptions = {}): string {
  const printer = new TreePrinter(options.disabled === true, options.owner === true);
  const byRoot = new Map<MemoryRegion, string[]>();
  for (const as of spaces) {
    if (as.root === null) continue;
    const names = byRoot.get(as.root);
    if (names === undefined) byRoot.set(as.root, [as.name]);
    else names.push(as.name);
  }
  for (const [root, names] of byRoot) byRoot.set(root, sortedInsertOrder(names));
  const first = (options.order ?? []).filter((root) => byRoot.has(root));
  const blocks = [...new Set([...first, ...byRoot.keys()])];
  for (const root of blocks) {
    const names = byRoot.get(root)!;
    for (const name of names) printer.out.push(`address-space: ${escapeText(name)}\n`);
    printer.print(root, 1, 0n);
    printer.out.push("\n");
  }
  // The queue grows while it is walked: targets met inside a section get sections too.
  for (let i = 0; i < printer.aliasQueue.length; i++) {
    const target = printer.aliasQueue[i]!;
    printer.out.push(`memory-region: ${regionName(target)}\n`);
    printer.print(target, 1, 0n);
    printer.out.push("\n");
  }
  return printer.out.text();
}

/** Children in printing order: by `addr`, then higher priority first, then list order. */
export function printOrder(subregions: readonly MemoryRegion[]): MemoryRegion[] {
  return subregions
    .map((mr, index) => ({ mr, index }))
    .sort((a, b) => {
      if (a.mr.addr !== b.mr.addr) return a.mr.addr < b.mr.addr ? -1 : 1;
      if (a.mr.priority !== b.mr.priority) return b.mr.priority - a.mr.priority;
      return a.index - b.index;
    })
    .map((e) => e.mr);
}

class TreePrinter {
  readonly out = new TextSink();
  readonly aliasQueue: MemoryRegion[] = [];
  readonly #queued = new Set<MemoryRegion>();

  constructor(
    readonly disabled: boolean,
    readonly owner: boolean,
  ) {}

  /** Prints `top` and its subtree, depth first, with a stack of its own: any depth prints. */
  print(top: MemoryRegion, level: number, base: bigint): void {
    const stack: { mr: MemoryRegion; level: number; base: bigint }[] = [{ mr: top, level, base }];
    while (stack.length > 0) {
      const { mr, level, base } = stack.pop()!;
      const start = this.#line(mr, level, base);
      const children = printOrder(mr.subregions);
      for (let i = children.length - 1; i >= 0; i--) stack.push({ mr: children[i]!, level: level + 1, base: start });
    }
  }

  /** One region's line (or only its overflow mark); returns where it starts, its children's base. */
  #line(mr: MemoryRegion, level: number, base: bigint): bigint {
    const start = wrap64(base + mr.addr);
    const end = wrap64(start + mrSize(mr.size));
    // Printed even when the line itself is then suppressed, so it prefixes the next line.
    if (start < base || end < start) this.out.push("[DETECTED OVERFLOW!] ");
    const shown = mr.enabled || this.disabled;
    let line = "";
    if (shown) {
      const nv = mr.nonvolatile ? "nv-" : "";
      line = `${"  ".repeat(level)}${hex16(start)}-${hex16(end)} (prio ${mr.priority}, ${nv}${mr.type()}): `;
    }
    if (mr.alias !== null) {
      if (!this.#queued.has(mr.alias)) {
        this.#queued.add(mr.alias);
        this.aliasQueue.push(mr.alias);
      }
      const windowEnd = mr.aliasOffset + mrSize(mr.size);
      line += `alias ${regionName(mr)} @${regionName(mr.alias)} ${hex16(mr.aliasOffset)}-${hex16(windowEnd)}`;
    } else {
      line += regionName(mr);
    }
    if (shown) {
      if (!mr.enabled) line += " [disabled]";
      if (this.owner) line += ownerSuffix(mr);
      this.out.push(`${line}\n`);
    }
    return start;
  }
}
