import { MemtopoError } from "@memtopo/region-tree";

/**
 * A machine description (`memtopo-machine/1`) or a QEMU `info mtree` text that cannot
 * be loaded. `path` names the bad value (`regions[0].subregions[3].size`, or
 * `line 12` for imported text); nothing was built when this is thrown. Codes:
 * - `E_MACHINE_JSON`: not JSON at all;
 * - `E_MACHINE_FORMAT`: the `format` field is missing or not `memtopo-machine/1`;
 * - `E_MACHINE_FIELD`: a field that the format does not have, or a required one missing;
 * - `E_MACHINE_TYPE`: a value of the wrong type or outside its set of words;
 * - `E_MACHINE_HEX`: a number that is not a `0x` hex string;
 * - `E_MACHINE_RANGE`: a number out of range (sizes above 2^64, or 2^64 for RAM, ROM and RAM devices, addresses
 *   from 2^64, priorities beyond int32);
 * - `E_MACHINE_DUPLICATE_ID`, `E_MACHINE_DANGLING_ID`: ids that repeat or name nothing;
 * - `E_MACHINE_CYCLE`: aliases and subregions that reach back to themselves;
 * - `E_MACHINE_ALIAS_WINDOW`: an alias window that lies outside its target;
 * - `E_MACHINE_PAST_END`: a subregion that ends past 2^64;
 * - `E_MTREE_SYNTAX`: a line of QEMU text that the importer cannot read;
 * - `E_MTREE_MISMATCH`: a flat view (`info mtree -f`) that the tree text given with it cannot print (`flat line N`).
 */
export class MachineFormatError extends MemtopoError {}

export function formatError(code: string, path: string, message: string): never {
  throw new MachineFormatError(code, message, path === "" ? {} : { path });
}
