import { MachineFormatError } from "memtopo";

/** Throws the machine file's typed error for a text the importer cannot read (`path` is `line N` or `flat line N`). */
export function formatError(code: string, path: string, message: string): never {
  throw new MachineFormatError(code, message, path === "" ? {} : { path });
}
