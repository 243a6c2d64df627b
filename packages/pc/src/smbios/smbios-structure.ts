/**
 * One SMBIOS structure: the formatted area (type, length, handle, then the type's fields,
 * little-endian) and the string set after it. A string field holds the 1-based number of its
 * string; an empty string is not stored and its field stays 0 (no string), as QEMU's
 * SMBIOS_TABLE_SET_STR does. The set ends with an extra NUL, or is two NULs when empty.
 */
export class SmbiosStructure {
  readonly #formatted: Uint8Array;
  readonly #view: DataView;
  readonly #strings: string[] = [];

  constructor(type: number, length: number, handle: number) {
    this.#formatted = new Uint8Array(length);
    this.#view = new DataView(this.#formatted.buffer);
    this.u8(0, type);
    this.u8(1, length);
    this.u16(2, handle);
  }

  u8(offset: number, value: number): void {
    this.#view.setUint8(offset, value);
  }

  u16(offset: number, value: number): void {
    this.#view.setUint16(offset, value, true);
  }

  u32(offset: number, value: number): void {
    this.#view.setUint32(offset, value, true);
  }

  u64(offset: number, value: bigint): void {
    this.#view.setBigUint64(offset, value, true);
  }

  bytes(offset: number, value: Uint8Array): void {
    this.#formatted.set(value, offset);
  }

  /** Adds `value` to the string set and stores its number at `offset`. */
  str(offset: number, value: string): void {
    if (value.length === 0) return;
    this.#strings.push(value);
    this.u8(offset, this.#strings.length);
  }

  encode(): Uint8Array {
    const text = this.#strings.length === 0 ? "\0\0" : `${this.#strings.join("\0")}\0\0`;
    const out = new Uint8Array(this.#formatted.length + text.length);
    out.set(this.#formatted);
    for (let i = 0; i < text.length; i++) out[this.#formatted.length + i] = text.charCodeAt(i);
    return out;
  }
}
