import { MemtopoError } from "@memtopo/region-tree";

/**
 * A bad board option or a request the board cannot serve; `code` is stable (`E_PC_RAM_SIZE`,
 * `E_PC_BIOS`, `E_PC_NO_VCPU`, ...). Thrown before anything is built or changed.
 */
export class PcError extends MemtopoError {}
