import { PcError } from "../errors.js";

/**
 * The "etc/table-loader" script QEMU hands firmware through fw_cfg (hw/acpi/bios-linker-loader.c):
 * 128-byte little-endian commands that have the firmware allocate fw_cfg files in its memory,
 * add a file's final address to pointers in another, and fix checksums after that.
 */
export const LOADER_COMMAND = { allocate: 1, addPointer: 2, addChecksum: 3 } as const;
/** Where ALLOCATE puts a file: anywhere in high memory, or in the F-segment (0xe0000-0xfffff). */
export const LOADER_ZONE = { high: 1, fseg: 2 } as const;
const ENTRY_SIZE = 128;
const FILE_NAME_SIZE = 56;

interface LoaderFile {
  readonly name: string;
  readonly size: number;
}

export class BiosLinkerLoader {
  readonly #entries: Uint8Array[] = [];
  readonly #files = new Map<string, LoaderFile>();

  /** The files the script may name, with their sizes (pointers and checksums must fit inside). */
  addFile(name: string, size: number): void {
    fileName(name);
    this.#files.set(name, { name, size });
  }

  allocate(file: string, align: number, zone: number): void {
    this.#file(file);
    if (!Number.isInteger(align) || align <= 0 || (align & (align - 1)) !== 0) {
      throw new PcError("E_PC_ACPI", `ALLOCATE of "${file}": alignment ${align} is not a power of two`);
    }
    const entry = this.#entry(LOADER_COMMAND.allocate);
    entry.set(fileName(file), 4);
    const view = new DataView(entry.buffer);
    view.setUint32(4 + FILE_NAME_SIZE, align, true);
    entry[4 + FILE_NAME_SIZE + 4] = zone;
  }

  /** ADD_POINTER: the `size`-byte field at `offset` in `dest` holds an offset in `src`; add src's address. */
  addPointer(dest: string, offset: number, size: 1 | 2 | 4 | 8, src: string): void {
    const file = this.#file(dest);
    this.#file(src);
    if (!Number.isInteger(offset) || offset < 0 || offset + size > file.size) {
      throw new PcError("E_PC_ACPI", `ADD_POINTER at ${offset} (${size} bytes) is outside "${dest}"`);
    }
    const entry = this.#entry(LOADER_COMMAND.addPointer);
    entry.set(fileName(dest), 4);
    entry.set(fileName(src), 4 + FILE_NAME_SIZE);
    new DataView(entry.buffer).setUint32(4 + 2 * FILE_NAME_SIZE, offset, true);
    entry[4 + 2 * FILE_NAME_SIZE + 4] = size;
  }

  /** ADD_CHECKSUM: the byte at `offset` makes bytes start..start+length of `file` sum to zero. */
  addChecksum(file: string, start: number, length: number, offset: number): void {
    const f = this.#file(file);
    if (start < 0 || length < 0 || start + length > f.size || offset < start || offset >= start + length) {
      throw new PcError("E_PC_ACPI", `ADD_CHECKSUM ${start}+${length} at ${offset} is outside "${file}"`);
    }
    const entry = this.#entry(LOADER_COMMAND.addChecksum);
    entry.set(fileName(file), 4);
    const view = new DataView(entry.buffer);
    view.setUint32(4 + FILE_NAME_SIZE, offset, true);
    view.setUint32(4 + FILE_NAME_SIZE + 4, start, true);
    view.setUint32(4 + FILE_NAME_SIZE + 8, length, true);
  }

  /** The script, zero-padded to `alignTo` bytes as QEMU pads it (a zero command ends it). */
  bytes(alignTo: number): Uint8Array {
    const used = this.#entries.length * ENTRY_SIZE;
    const out = new Uint8Array(Math.max(alignTo, Math.ceil(used / alignTo) * alignTo));
    for (const [i, e] of this.#entries.entries()) out.set(e, i * ENTRY_SIZE);
    return out;
  }

  #file(name: string): LoaderFile {
    const file = this.#files.get(name);
    if (file === undefined) throw new PcError("E_PC_ACPI", `the table loader does not know "${name}"`);
    return file;
  }

  #entry(command: number): Uint8Array {
    const entry = new Uint8Array(ENTRY_SIZE);
    new DataView(entry.buffer).setUint32(0, command, true);
    this.#entries.push(entry);
    return entry;
  }
}

function fileName(name: string): Uint8Array {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length === 0 || bytes.length >= FILE_NAME_SIZE) {
    throw new PcError("E_PC_ACPI", `a loader file name is 1..55 bytes, got "${name}"`);
  }
  return bytes;
}
