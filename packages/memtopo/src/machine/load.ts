import type { MtreeAddressSpace } from "../mtree/format.js";
import { type BuiltMachine, buildMachine, type MachineHost } from "./build.js";
import { formatError } from "./errors.js";
import { parseMachine } from "./parse.js";

/**
 * Loads a `memtopo-machine/1` document (JSON text or an already parsed value) into
 * `host`: validates all of it first (a {@link MachineFormatError} naming the JSON path
 * leaves the host untouched), then builds it in one transaction.
 */
export function loadMachine<AS extends MtreeAddressSpace>(input: unknown, host: MachineHost<AS>): BuiltMachine<AS> {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (error) {
      formatError("E_MACHINE_JSON", "", `not JSON: ${(error as Error).message}`);
    }
  }
  return buildMachine(parseMachine(value), host);
}
