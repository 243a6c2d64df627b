import type { RamAllocator } from "@memtopo/region-tree";
import type { AddressSpaceShape } from "../address-space-shape.js";
import type { AddressSpace } from "../system/address-space.js";
import { MemorySystem } from "../system/memory-system.js";
import { type BuiltMachine, buildMachine, type MachineHost } from "./build.js";
import { formatError } from "./errors.js";
import { parseMachine } from "./parse.js";

export interface LoadOptions {
  /** Backing for the machine's RAM (JS-heap memory created on first access by default). */
  readonly ramAllocator?: RamAllocator;
  readonly targetBigEndian?: boolean;
}

/** A machine loaded into a MemorySystem of its own, created with the file's `accel`. */
export type LoadedMachine = BuiltMachine<AddressSpace> & { readonly host: MemorySystem };

/**
 * Loads a `memtopo-machine/1` document (JSON text or an already parsed value): validates
 * all of it first (a {@link MachineFormatError} naming the JSON path; nothing is created),
 * then builds it in one transaction, by default into a new {@link MemorySystem} with the
 * file's accelerator, or into the given host.
 */
export function loadMachine(input: unknown, options?: LoadOptions): LoadedMachine;
export function loadMachine<AS extends AddressSpaceShape>(input: unknown, host: MachineHost<AS>): BuiltMachine<AS>;
export function loadMachine(
  input: unknown,
  target: LoadOptions | MachineHost<AddressSpaceShape> = {},
): BuiltMachine<AddressSpaceShape> {
  // The parsed JSON is not held while the machine is built: the spec has all of it, and for a large file the two
  // together were a third of the heap that the build's collections had to walk.
  const spec = parseMachine(typeof input === "string" ? parseJson(input) : input);
  if ("createAddressSpace" in target) return buildMachine(spec, target);
  const system = new MemorySystem({
    accel: spec.accel,
    ...(target.ramAllocator === undefined ? {} : { ramAllocator: target.ramAllocator }),
    ...(target.targetBigEndian === undefined ? {} : { targetBigEndian: target.targetBigEndian }),
  });
  return buildMachine(spec, system);
}

function parseJson(text: string): unknown {
  try {
    // A byte-order mark is not JSON, but editors write one: it is skipped, as it says nothing.
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    formatError("E_MACHINE_JSON", "", `not JSON: ${(error as Error).message}`);
  }
}
