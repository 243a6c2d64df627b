/** How many pieces are joined into one chunk. */
const PIECES_PER_CHUNK = 4096;

/**
 * A printout built piece by piece and joined a chunk at a time. Each printed line is a rope of the strings it was
 * made from (about 600 bytes for a line of `info mtree`); a million of them kept until one final join were a
 * gigabyte that every young-generation collection copied. Joined every few thousand pieces, a line dies young
 * and only its chunk's flat bytes survive.
 */
export class TextSink {
  readonly #chunks: string[] = [];
  #pieces: string[] = [];

  push(piece: string): void {
    this.#pieces.push(piece);
    if (this.#pieces.length === PIECES_PER_CHUNK) this.#flush();
  }

  /** Everything pushed, in order. */
  text(): string {
    this.#flush();
    return this.#chunks.join("");
  }

  #flush(): void {
    if (this.#pieces.length === 0) return;
    this.#chunks.push(this.#pieces.join(""));
    this.#pieces = [];
  }
}
