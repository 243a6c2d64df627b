/** What the list order of a container's children needs to know of each. */
export interface ListedSibling {
  readonly priority: number;
  readonly addr: bigint;
  /** Siblings this one must precede in the list (it wins an overlap in a flat view). */
  readonly before: ReadonlySet<ListedSibling> | null;
}

/**
 * A container's subregion list from its printed children: higher priority first; within a
 * priority, the first in printed order that no pending sibling must precede, where a sibling
 * must precede another when it wins an overlap from it (`before`) or sits at the same address
 * earlier in print (siblings at one address print in list order: that order is a fact). When
 * every pending sibling waits for another (a cycle), the first pending one in printed order is
 * taken and `onCycle` is told.
 *
 * Kahn's algorithm with the ready siblings in a heap by printed position: each sibling waits for
 * its `before`-predecessors and for the one printed just before it at its address (which leaves
 * only after every earlier one there), so a container of n children costs O((n + edges) log n),
 * where testing every pending pair cost O(n^3).
 */
export function siblingListOrder<T extends ListedSibling>(printed: readonly T[], onCycle: () => void): T[] {
  if (printed.every((c) => c.before === null || c.before.size === 0)) return byPriority(printed);
  const out: T[] = [];
  const priorities = [...new Set(printed.map((c) => c.priority))].sort((a, b) => b - a);
  for (const priority of priorities) {
    const group = printed.filter((c) => c.priority === priority);
    const n = group.length;
    const position = new Map<ListedSibling, number>();
    for (let i = 0; i < n; i++) position.set(group[i]!, i);
    // successors[i]: the positions that wait for i; waiting[i]: how many pending siblings i waits for.
    const successors: number[][] = Array.from({ length: n }, () => []);
    const waiting = new Int32Array(n);
    const lastAt = new Map<bigint, number>();
    for (let i = 0; i < n; i++) {
      const c = group[i]!;
      const seen = new Set<number>();
      for (const other of c.before ?? []) {
        const j = position.get(other);
        if (j === undefined || j === i || seen.has(j)) continue;
        seen.add(j);
        successors[i]!.push(j);
        waiting[j]!++;
      }
      const previous = lastAt.get(c.addr);
      lastAt.set(c.addr, i);
      // The sibling printed just before at this address, unless it already waits on `before`.
      if (previous !== undefined && group[previous]!.before?.has(c) !== true) {
        successors[previous]!.push(i);
        waiting[i]!++;
      }
    }
    const done = new Uint8Array(n);
    const ready = new MinHeap();
    for (let i = 0; i < n; i++) if (waiting[i] === 0) ready.push(i);
    let firstPending = 0;
    for (let left = n; left > 0; left--) {
      let next = -1;
      while (ready.size > 0) {
        const i = ready.pop();
        if (done[i] === 0) {
          next = i;
          break;
        }
      }
      if (next < 0) {
        onCycle();
        while (done[firstPending] === 1) firstPending++;
        next = firstPending;
      }
      done[next] = 1;
      out.push(group[next]!);
      for (const j of successors[next]!) {
        if (--waiting[j]! === 0 && done[j] === 0) ready.push(j);
      }
    }
  }
  return out;
}

/**
 * The list when no sibling must precede another for an overlap: siblings at one address then wait only for those
 * printed before them, so each priority keeps its printed order (a stable sort). Nearly every container of a
 * large dump is such, and the general way made a set and a list per sibling.
 */
function byPriority<T extends ListedSibling>(printed: readonly T[]): T[] {
  let descending = true;
  for (let i = 1; i < printed.length && descending; i++) descending = printed[i]!.priority <= printed[i - 1]!.priority;
  return descending ? printed.slice() : printed.slice().sort((a, b) => b.priority - a.priority);
}

/** A binary min-heap of positions. */
class MinHeap {
  readonly #items: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(value: number): void {
    const items = this.#items;
    let i = items.length;
    items.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.#items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child = right < items.length && items[right]! < items[left]! ? right : left;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
