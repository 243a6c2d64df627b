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
  /** Everything in the file, by id. */
  readonly byId: ReadonlyMap<string, RegionSpec>;
}
