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

/** One checked section: its type and payload (a copy the reader no longer touches). */
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
  #buffer = new Uint8Array(0);
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
      this.#append(chunk);
      return this.#drain();
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
        `the stream ends at offset ${this.#consumed + this.#buffer.length} before its END section` +
          (this.#buffer.length > 0 ? ` (${this.#buffer.length} bytes of an unfinished section)` : ""),
      );
      throw this.#failure;
    }
  }

  #append(chunk: Uint8Array): void {
    if (this.#buffer.length === 0) {
      this.#buffer = chunk.slice();
      return;
    }
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer, 0);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
  }

  #drain(): StreamSection[] {
    const out: StreamSection[] = [];
    let at = 0;
    if (!this.#headerRead) {
      if (this.#buffer.length < HEADER_SIZE) return out;
      this.#checkHeader(this.#buffer.subarray(0, HEADER_SIZE));
      at = HEADER_SIZE;
      this.#headerRead = true;
    }
    while (!this.#ended && this.#buffer.length - at >= SECTION_HEADER_SIZE) {
      const view = new DataView(this.#buffer.buffer, this.#buffer.byteOffset + at);
      const offset = this.#consumed + at;
      const type = this.#buffer[at]!;
      const length = view.getUint32(4, true);
      if (SECTION_NAMES[type] === undefined) {
        throw new MigrationError("E_STREAM_SECTION", `unknown section type 0x${type.toString(16)} at offset ${offset}`);
      }
      if (this.#buffer[at + 1] !== 0 || this.#buffer[at + 2] !== 0 || this.#buffer[at + 3] !== 0) {
        throw new MigrationError("E_STREAM_SECTION", `reserved bytes of the section at offset ${offset} are not zero`);
      }
      if (length > MAX_SECTION_PAYLOAD) {
        throw new MigrationError(
          "E_STREAM_SECTION",
          `section at offset ${offset} claims ${length} bytes (the format allows 64 MiB)`,
        );
      }
      const whole = SECTION_HEADER_SIZE + length + SECTION_CRC_SIZE;
      if (this.#buffer.length - at < whole) break;
      const framed = this.#buffer.subarray(at, at + SECTION_HEADER_SIZE + length);
      const stored = view.getUint32(SECTION_HEADER_SIZE + length, true);
      const actual = crc32(framed);
      if (stored !== actual) {
        throw new MigrationError(
          "E_STREAM_CHECKSUM",
          `${SECTION_NAMES[type]} section at offset ${offset}: CRC-32 0x${actual.toString(16)} where the stream says 0x${stored.toString(16)}`,
        );
      }
      const payload = framed.slice(SECTION_HEADER_SIZE);
      if (type === SECTION.END) this.#checkEnd(payload, offset);
      else this.#sections++;
      out.push({ type, payload, offset });
      at += whole;
    }
    this.#consumed += at;
    this.#buffer = this.#buffer.slice(at);
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
    const view = new DataView(header.buffer, header.byteOffset);
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
    if (payload.length !== 4)
      throw new MigrationError("E_STREAM_SECTION", `END at offset ${offset} has ${payload.length} bytes, not 4`);
    const count = new DataView(payload.buffer, payload.byteOffset).getUint32(0, true);
    if (count !== this.#sections) {
      throw new MigrationError(
        "E_STREAM_TRUNCATED",
        `END at offset ${offset} counts ${count} sections; ${this.#sections} arrived`,
      );
    }
    this.#ended = true;
  }
}
