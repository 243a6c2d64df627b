import { crc32 } from "node:zlib";
import { MigrationError } from "../errors.js";
import {
  HEADER_SIZE,
  MAX_SECTION_PAYLOAD,
  SECTION,
  SECTION_CRC_SIZE,
  SECTION_HEADER_SIZE,
  type SectionType,
  STREAM_MAGIC,
  STREAM_VERSION,
} from "./format.js";

/** Where a writer puts its bytes: each call gets one whole section (or the header), never kept by the writer. */
export type StreamSink = (chunk: Uint8Array) => void;

/** Writes the header, then framed sections with their CRC-32, then END. */
export class StreamWriter {
  readonly #sink: StreamSink;
  #sections = 0;
  #ended = false;
  #bytes = 0;

  constructor(sink: StreamSink) {
    this.#sink = sink;
    const header = new Uint8Array(HEADER_SIZE);
    header.set(STREAM_MAGIC, 0);
    new DataView(header.buffer).setUint32(8, STREAM_VERSION, true);
    this.#emit(header);
  }

  /** Bytes written so far. */
  get bytes(): number {
    return this.#bytes;
  }

  section(type: SectionType, payload: Uint8Array): void {
    if (this.#ended) throw new MigrationError("E_MIGRATION_STATE", "the stream has ended");
    if (type === SECTION.END) throw new MigrationError("E_INVALID_ARGUMENT", "END is written by end()");
    this.#frame(type, payload);
    this.#sections++;
  }

  /** END, with the count of sections before it. */
  end(): void {
    if (this.#ended) throw new MigrationError("E_MIGRATION_STATE", "the stream has ended");
    const payload = new Uint8Array(4);
    new DataView(payload.buffer).setUint32(0, this.#sections, true);
    this.#frame(SECTION.END, payload);
    this.#ended = true;
  }

  #frame(type: SectionType, payload: Uint8Array): void {
    if (payload.length > MAX_SECTION_PAYLOAD) {
      throw new MigrationError(
        "E_INVALID_ARGUMENT",
        `a section payload of ${payload.length} bytes exceeds the format's 64 MiB`,
      );
    }
    const frame = new Uint8Array(SECTION_HEADER_SIZE + payload.length + SECTION_CRC_SIZE);
    const view = new DataView(frame.buffer);
    frame[0] = type;
    view.setUint32(4, payload.length, true);
    frame.set(payload, SECTION_HEADER_SIZE);
    view.setUint32(
      SECTION_HEADER_SIZE + payload.length,
      crc32(frame.subarray(0, SECTION_HEADER_SIZE + payload.length)),
      true,
    );
    this.#emit(frame);
  }

  #emit(chunk: Uint8Array): void {
    this.#bytes += chunk.length;
    this.#sink(chunk);
  }
}
