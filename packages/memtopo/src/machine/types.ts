/** The words of `kind` in `memtopo-machine/1`. */
export type MachineRegionKind = "container" | "ram" | "rom" | "romd" | "io" | "ram-device" | "alias";
export type MachineAccel = "kvm" | "tcg" | "none";
export type LogClient = "vga" | "code" | "migration";

/** One region of a machine file, as JSON (numbers are `0x` hex strings). */
export interface MachineRegionJson {
  id: string;
  name: string | null;
  kind: MachineRegionKind;
  size: string;
  addr?: string;
  priority?: number;
  enabled?: boolean;
  readonly?: boolean;
  nonvolatile?: boolean;
  /** ROM devices only: `false` when the device is out of ROMD mode (every access goes to its ops). */
  romdMode?: boolean;
  alias?: string;
  aliasOffset?: string;
  log?: LogClient[];
  owner?: string | null;
  subregions?: MachineRegionJson[];
}

/** A `memtopo-machine/1` file. */
export interface MachineJson {
  format: "memtopo-machine/1";
  name?: string;
  accel?: MachineAccel;
  addressSpaces: { name: string; root: string }[];
  regions: MachineRegionJson[];
  /**
   * The order of `info mtree`'s blocks, as the ids of their root regions. QEMU prints the blocks in the order of a
   * hash table, which no other fact of the machine gives; a machine imported from QEMU's text keeps it here so
   * that printing it again gives the same bytes. Roots not listed follow, in creation order.
   */
  mtreeOrder?: string[];
}

/** A validated region: numbers as bigint, defaults applied, `path` for later messages. */
export interface RegionSpec {
  readonly path: string;
  readonly id: string;
  readonly name: string | null;
  readonly kind: MachineRegionKind;
  readonly size: bigint;
  readonly addr: bigint;
  readonly priority: number;
  readonly enabled: boolean;
  readonly readonly: boolean;
  readonly nonvolatile: boolean;
  readonly romdMode: boolean;
  readonly alias: string | null;
  readonly aliasOffset: bigint;
  readonly log: readonly LogClient[];
  readonly owner: string | null;
  readonly subregions: readonly RegionSpec[];
}

/** A validated machine file. */
export interface MachineSpec {
  readonly name: string;
  readonly accel: MachineAccel;
  readonly addressSpaces: readonly { readonly name: string; readonly root: string; readonly path: string }[];
  readonly regions: readonly RegionSpec[];
  /** Root ids in `info mtree` block order (see {@link MachineJson.mtreeOrder}); empty when the file has none. */
  readonly mtreeOrder: readonly string[];
  /** Everything in the file, by id. */
  readonly byId: ReadonlyMap<string, RegionSpec>;
}
