import { BIG_EXACT_LIMIT, toDouble } from "@memtopo/region-tree";
import type { FlatRange } from "./flat-range.js";

/**
 * The length a chunk is cut to. Chunks hold between CHUNK / 2 and 2 * CHUNK ranges (only a view of
 * fewer ranges has one smaller chunk), so a view of n ranges has at most about 2n / CHUNK of them.
 */
export const RANGE_CHUNK = 16;
const CHUNK = RANGE_CHUNK;

/** A replacement of old ranges `[oldStart, oldEnd)` by `ranges` (sorted, disjoint, in old positions). */
export interface ChunkSplice {
  readonly oldStart: number;
  readonly oldEnd: number;
  readonly ranges: readonly FlatRange[];
}

/**
 * A FlatView's ranges as a persistent list of immutable chunks: the view a commit makes from
 * another shares every chunk no splice touched, so making it copies the chunk pointers and the
 * ranges of the touched chunks, not every range. No chunk array is ever written once its list is
 * made, so an old view (held by a listener or a dispatch in flight) stays exactly what it was.
 */
export class RangeChunks {
  readonly #chunks: readonly (readonly FlatRange[])[];
  /** `#firsts[c]`: the position in the view of chunk c's first range; the last entry is the count. */
  readonly #firsts: readonly number[];

  /** Made by {@link RangeChunks.of} and {@link RangeChunks.withSplices}; `firsts` must match `chunks`. */
  constructor(chunks: readonly (readonly FlatRange[])[], firsts: readonly number[]) {
    this.#chunks = chunks;
    this.#firsts = firsts;
  }

  /** `ranges` cut into chunks; a short list is its own one chunk (not copied: it must not change). */
  static of(ranges: readonly FlatRange[]): RangeChunks {
    if (ranges.length <= 2 * CHUNK) return new RangeChunks([ranges], [0, ranges.length]);
    const chunks: (readonly FlatRange[])[] = [];
    const firsts: number[] = [0];
    for (let i = 0; i < ranges.length; i += CHUNK) {
      // The tail joins the chunk before it when it would be short.
      const end = ranges.length - (i + CHUNK) < CHUNK / 2 ? ranges.length : i + CHUNK;
      chunks.push(ranges.slice(i, end));
      firsts.push(end);
      if (end === ranges.length) break;
    }
    return new RangeChunks(chunks, firsts);
  }

  get length(): number {
    return this.#firsts[this.#firsts.length - 1]!;
  }

  /** How many chunks hold the ranges (what a commit copies besides the touched chunks). */
  get chunkCount(): number {
    return this.#chunks.length;
  }

  /** Every range in order, as one new array (or the one chunk itself). */
  flatten(): readonly FlatRange[] {
    if (this.#chunks.length === 1) return this.#chunks[0]!;
    const out = new Array<FlatRange>(this.length);
    let k = 0;
    for (const chunk of this.#chunks) for (let i = 0; i < chunk.length; i++) out[k++] = chunk[i]!;
    return out;
  }

  /** The range at position `i`, undefined outside [0, length). */
  at(i: number): FlatRange | undefined {
    if (!(i >= 0 && i < this.length)) return undefined;
    const c = this.#chunkOf(i);
    return this.#chunks[c]![i - this.#firsts[c]!];
  }

  /** The ranges at positions [from, to) as a new array. */
  slice(from: number, to: number): FlatRange[] {
    const out: FlatRange[] = [];
    const end = Math.min(to, this.length);
    if (from >= end) return out;
    let c = this.#chunkOf(from);
    let i = from - this.#firsts[c]!;
    for (let k = from; k < end; k++) {
      let chunk = this.#chunks[c]!;
      if (i === chunk.length) {
        chunk = this.#chunks[++c]!;
        i = 0;
      }
      out.push(chunk[i++]!);
    }
    return out;
  }

  /** Position of the first range whose end is at or after `pos` (the count when none). */
  firstEndingAtOrAfter(pos: bigint): number {
    return this.#search(pos, endsBefore);
  }

  /** Position of the first range that ends after `pos`. */
  firstEndingAfter(pos: bigint): number {
    return this.#search(pos, endsAtOrBefore);
  }

  /** Position of the first range that starts after `pos`. */
  firstStartingAfter(pos: bigint): number {
    return this.#search(pos, startsAtOrBefore);
  }

  /** Position of the first range that starts at or after `pos`. */
  firstStartingAtOrAfter(pos: bigint): number {
    return this.#search(pos, startsBefore);
  }

  /** The range holding `addr` (exact bigint compares), or undefined. */
  find(addr: bigint): FlatRange | undefined {
    const i = this.#search(addr, startsAtOrBefore) - 1;
    const r = this.at(i);
    if (r === undefined || addr - r.start >= r.size) return undefined;
    return r;
  }

  /**
   * The list with `splices` (sorted by position, disjoint) applied: chunks before, between and
   * after the splices are shared; a chunk a splice touches is copied with the splice's ranges in
   * place of the old ones, and a piece left short is joined to the chunk after it (or before it,
   * at the end) so that chunks stay at least CHUNK / 2 long.
   */
  withSplices(splices: readonly ChunkSplice[]): RangeChunks {
    let length = this.length;
    for (const s of splices) length += s.ranges.length - (s.oldEnd - s.oldStart);
    if (this.#chunks.length === 1 && length <= 2 * CHUNK) return this.#spliceOne(splices, length);
    const out = new ChunkBuilder();
    let pos = 0;
    for (const s of splices) {
      this.#copy(out, pos, s.oldStart);
      for (let i = 0; i < s.ranges.length; i++) out.push(s.ranges[i]!);
      pos = s.oldEnd;
    }
    this.#copy(out, pos, this.length);
    return out.finish();
  }

  /**
   * A small list stays one chunk, made as one array of its final length (a native slice or concat
   * of the old one, then the splices written in place): a commit of a small view allocates that only.
   */
  #spliceOne(splices: readonly ChunkSplice[], length: number): RangeChunks {
    const ranges = this.#chunks[0]!;
    let out: FlatRange[];
    if (length <= ranges.length) out = ranges.slice(0, length);
    else {
      // Grown by one concat of the right length (appending would grow the array, copying it again).
      const extra: FlatRange[] = [];
      for (let k = 0; k < splices.length && extra.length < length - ranges.length; k++) {
        const fresh = splices[k]!.ranges;
        for (let i = 0; i < fresh.length && extra.length < length - ranges.length; i++) extra.push(fresh[i]!);
      }
      out = ranges.concat(extra);
    }
    let at = splices.length > 0 ? splices[0]!.oldStart : length;
    for (let k = 0; k < splices.length; k++) {
      const { oldEnd, ranges: fresh } = splices[k]!;
      for (let i = 0; i < fresh.length; i++) out[at++] = fresh[i]!;
      const next = k + 1 < splices.length ? splices[k + 1]!.oldStart : ranges.length;
      for (let j = oldEnd; j < next; j++) out[at++] = ranges[j]!;
    }
    return new RangeChunks([out], [0, length]);
  }

  /** Old positions [from, to) into `out`: whole chunks as they are, the parts of others range by range. */
  #copy(out: ChunkBuilder, from: number, to: number): void {
    if (from >= to) return;
    let c = this.#chunkOf(from);
    let at = from;
    while (at < to) {
      const first = this.#firsts[c]!;
      const chunk = this.#chunks[c]!;
      const end = Math.min(to, first + chunk.length);
      if (at === first && end === first + chunk.length) out.pushChunk(chunk);
      else for (let i = at - first; i < end - first; i++) out.push(chunk[i]!);
      at = end;
      c++;
    }
  }

  /** The chunk holding position `i` (0 <= i < length). */
  #chunkOf(i: number): number {
    const firsts = this.#firsts;
    let lo = 0;
    let hi = firsts.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (firsts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /**
   * Position of the first range for which `before(range, pos)` is false, given that it is true
   * for a prefix of the list: the chunk by its last range, then the range inside it.
   */
  #search(pos: bigint, before: (r: FlatRange, p: number, pos: bigint) => boolean): number {
    const chunks = this.#chunks;
    // Exact as a double below 2^53; past it the predicates compare bigints.
    const p = pos < BIG_EXACT_LIMIT && pos >= 0n ? toDouble(pos) : -1;
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = chunks[mid]!;
      if (chunk.length > 0 && before(chunk[chunk.length - 1]!, p, pos)) lo = mid + 1;
      else hi = mid;
    }
    if (lo === chunks.length) return this.length;
    const chunk = chunks[lo]!;
    let a = 0;
    let b = chunk.length;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if (before(chunk[mid]!, p, pos)) a = mid + 1;
      else b = mid;
    }
    return this.#firsts[lo]! + a;
  }
}

/*
 * The predicates of the searches. `p` is `pos` as a double when it is below 2^53, else -1. A
 * range whose start and size are below 2^53 then compares in doubles: its end may round when past
 * 2^53, but rounding is monotonic and `p` is exact, so the comparison comes out as the exact one.
 */

function exactEnd(r: FlatRange): number {
  return r.start < BIG_EXACT_LIMIT && r.size < BIG_EXACT_LIMIT ? toDouble(r.start) + toDouble(r.size) : -1;
}

function endsBefore(r: FlatRange, p: number, pos: bigint): boolean {
  const e = p >= 0 ? exactEnd(r) : -1;
  return e >= 0 ? e < p : r.start + r.size < pos;
}

function endsAtOrBefore(r: FlatRange, p: number, pos: bigint): boolean {
  const e = p >= 0 ? exactEnd(r) : -1;
  return e >= 0 ? e <= p : r.start + r.size <= pos;
}

function startsAtOrBefore(r: FlatRange, _p: number, pos: bigint): boolean {
  return r.start <= pos;
}

function startsBefore(r: FlatRange, _p: number, pos: bigint): boolean {
  return r.start < pos;
}

/** Chunks being made: ranges gather in a buffer that is cut at 2 * CHUNK; whole chunks are shared. */
class ChunkBuilder {
  readonly #chunks: (readonly FlatRange[])[] = [];
  readonly #firsts: number[] = [0];
  #buf: FlatRange[] = [];

  push(r: FlatRange): void {
    const buf = this.#buf;
    buf.push(r);
    // Cut only at twice the length, leaving CHUNK: a touched chunk then comes out whole, not as a
    // full chunk and a short rest that would have to be joined to the next one (a second copy).
    if (buf.length === 2 * CHUNK) {
      this.#emit(buf.slice(0, CHUNK));
      this.#buf = buf.slice(CHUNK);
    }
  }

  /** A whole old chunk: shared, unless a short buffer must be joined to it (then one copy, at most 2.5 CHUNK split in two). */
  pushChunk(chunk: readonly FlatRange[]): void {
    const buf = this.#buf;
    if (buf.length === 0) {
      this.#emit(chunk);
      return;
    }
    if (buf.length >= CHUNK / 2) {
      this.#flush();
      this.#emit(chunk);
      return;
    }
    for (let i = 0; i < chunk.length; i++) buf.push(chunk[i]!);
    this.#flushJoined();
  }

  finish(): RangeChunks {
    const buf = this.#buf;
    if (buf.length > 0) {
      if (buf.length < CHUNK / 2 && this.#chunks.length > 0) {
        const last = this.#chunks.pop()!;
        this.#firsts.pop();
        this.#buf = last.concat(buf);
        this.#flushJoined();
      } else {
        this.#flush();
      }
    }
    if (this.#chunks.length === 0) this.#emit([]);
    return new RangeChunks(this.#chunks, this.#firsts);
  }

  /** The buffer as one chunk, or two halves when longer than 2 * CHUNK. */
  #flushJoined(): void {
    const buf = this.#buf;
    if (buf.length > 2 * CHUNK) {
      const half = buf.length >>> 1;
      this.#emit(buf.slice(0, half));
      this.#emit(buf.slice(half));
      this.#buf = [];
    } else {
      this.#flush();
    }
  }

  #flush(): void {
    this.#emit(this.#buf);
    this.#buf = [];
  }

  #emit(chunk: readonly FlatRange[]): void {
    this.#chunks.push(chunk);
    this.#firsts.push(this.#firsts[this.#firsts.length - 1]! + chunk.length);
  }
}
