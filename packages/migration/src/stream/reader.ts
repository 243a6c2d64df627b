import { crc32 } from "node:zlib";
import { MigrationError } from "../errors.js";
import {
  HEADER_SIZE,
  MAX_SECTION_PAYLOAD,
  SECTION,
  SECTION_CRC_SIZE,
  SECTION_HEADER_SIZE,
  SECTION_NAMES,
  STREAM_MAGIC,
  STREAM_VERSION,
} from "./format.js";

/** One checked section: its type and payload (a view, valid until the next push: take what you keep). */
export interface StreamSection {
  readonly type: number;
  readonly payload: Uint8Array;
  /** Byte offset of the section in the stream, for messages. */
  readonly offset: number;
}

/**
 * Takes a stream in chunks of any size and hands out sections only once their CRC-32
 * matched; the header, lengths and END's count are checked as they arrive. After the first
 * error every later call throws it again: a refused stream stays refused.
 */
export class StreamReader {
  /** Bytes received and not yet parsed, as they came (joined only when a whole section is there). */
  #pending: Uint8Array[] = [];
  /** Index of the first pending chunk not yet consumed (shifting would make tiny chunks quadratic). */
  #head = 0;
  #pendingLength = 0;
  #consumed = 0;
  #headerRead = false;
  #sections = 0;
  #ended = false;
  #failure: MigrationError | null = null;

  /** Whether END arrived (and matched). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Appends `chunk` and returns the sections it completed. */
  push(chunk: Uint8Array): StreamSection[] {
    if (this.#failure !== null) throw this.#failure;
    try {
      if (this.#ended && chunk.length > 0) {
        throw new MigrationError("E_STREAM_SECTION", `bytes after END at offset ${this.#consumed}`);
      }
      if (chunk.length > 0) {
        this.#pending.push(chunk);
        this.#pendingLength += chunk.length;
      }
      const sections = this.#drain();
      // What stays pending of this chunk outlives the call: copy it, the caller may reuse its buffer
      // (only the last pending piece can be of this chunk; earlier pieces were copied when they came).
      const last = this.#pending.length - 1;
      if (last >= this.#head && this.#pending[last]!.buffer === chunk.buffer)
        this.#pending[last] = this.#pending[last]!.slice();
      return sections;
    } catch (error) {
      if (error instanceof MigrationError) this.#failure = error;
      throw error;
    }
  }

  /** The stream is over: throws E_STREAM_TRUNCATED unless END arrived. */
  finish(): void {
    if (this.#failure !== null) throw this.#failure;
    if (!this.#ended) {
      this.#failure = new MigrationError(
        "E_STREAM_TRUNCATED",
        `the stream ends at offset ${this.#consumed + this.#pendingLength} before its END section` +
          (this.#pendingLength > 0 ? ` (${this.#pendingLength} bytes of an unfinished section)` : ""),
      );
      throw this.#failure;
    }
  }

  /** The first `n` pending bytes, joined (n <= pending length); `consume` removes them. */
  #peek(n: number, consume: boolean): Uint8Array {
    const first = this.#pending[this.#head]!;
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
    } else {
      out = new Uint8Array(n);
      let at = 0;
      for (let i = this.#head; at < n; i++) {
        const part = this.#pending[i]!.subarray(0, n - at);
        out.set(part, at);
        at += part.length;
      }
    }
    if (consume) {
      let left = n;
      while (left > 0) {
        const c = this.#pending[this.#head]!;
        if (c.length <= left) {
          this.#head++;
          left -= c.length;
        } else {
          this.#pending[this.#head] = c.subarray(left);
          left = 0;
        }
      }
      if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
        this.#pending = this.#pending.slice(this.#head);
        this.#head = 0;
      }
      this.#pendingLength -= n;
      this.#consumed += n;
    }
    return out;
  }

  #drain(): StreamSection[] {
    const out: StreamSection[] = [];
    if (!this.#headerRead) {
      if (this.#pendingLength < HEADER_SIZE) return out;
      this.#checkHeader(this.#peek(HEADER_SIZE, true));
      this.#headerRead = true;
    }
    while (!this.#ended && this.#pendingLength >= SECTION_HEADER_SIZE) {
      const offset = this.#consumed;
      const head = this.#peek(SECTION_HEADER_SIZE, false);
      const type = head[0]!;
      const length = new DataView(head.buffer, head.byteOffset, SECTION_HEADER_SIZE).getUint32(4, true);
      if (SECTION_NAMES[type] === undefined) {
        throw new MigrationError("E_STREAM_SECTION", `unknown section type 0x${type.toString(16)} at offset ${offset}`);
      }
      if (head[1] !== 0 || head[2] !== 0 || head[3] !== 0) {
        throw new MigrationError("E_STREAM_SECTION", `reserved bytes of the section at offset ${offset} are not zero`);
      }
      if (length > MAX_SECTION_PAYLOAD) {
        throw new MigrationError(
          "E_STREAM_SECTION",
          `section at offset ${offset} claims ${length} bytes (the format allows 64 MiB)`,
        );
      }
      const whole = SECTION_HEADER_SIZE + length + SECTION_CRC_SIZE;
      if (this.#pendingLength < whole) break;
      const frame = this.#peek(whole, true);
      const framed = frame.subarray(0, SECTION_HEADER_SIZE + length);
      const stored = new DataView(frame.buffer, frame.byteOffset, whole).getUint32(SECTION_HEADER_SIZE + length, true);
      const actual = crc32(framed);
      if (stored !== actual) {
        throw new MigrationError(
          "E_STREAM_CHECKSUM",
          `${SECTION_NAMES[type]} section at offset ${offset}: CRC-32 0x${actual.toString(16)} where the stream says 0x${stored.toString(16)}`,
        );
      }
      const payload = framed.subarray(SECTION_HEADER_SIZE);
      if (type === SECTION.END) this.#checkEnd(payload, offset);
      else this.#sections++;
      out.push({ type, payload, offset });
    }
    return out;
  }

  #checkHeader(header: Uint8Array): void {
    for (let i = 0; i < STREAM_MAGIC.length; i++) {
      if (header[i] !== STREAM_MAGIC[i]) {
        throw new MigrationError(
          "E_STREAM_MAGIC",
          "not a memtopo migration stream (the first 8 bytes are not MTMIGRAT)",
        );
      }
    }
    const view = new DataView(header.buffer, header.byteOffset, HEADER_SIZE);
    const version = view.getUint32(8, true);
    if (version !== STREAM_VERSION) {
      throw new MigrationError(
        "E_STREAM_VERSION",
        `stream version ${version}; this reader knows version ${STREAM_VERSION}`,
      );
    }
    if (view.getUint32(12, true) !== 0) {
      throw new MigrationError(
        "E_STREAM_VERSION",
        "the header's flags are not zero (a feature this reader does not know)",
      );
    }
  }

  #checkEnd(payload: Uint8Array, offset: number): void {
    if (payload.length !== 4) {
      throw new MigrationError("E_STREAM_SECTION", `END at offset ${offset} has ${payload.length} bytes, not 4`);
    }
    const count = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true);
    if (count !== this.#sections) {
      throw new MigrationError(
        "E_STREAM_TRUNCATED",
        `END at offset ${offset} counts ${count} sections; ${this.#sections} arrived`,
      );
    }
    this.#ended = true;
  }
}
