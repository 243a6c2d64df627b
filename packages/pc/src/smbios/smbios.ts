import { PcError } from "../errors.js";
import { SmbiosStructure } from "./smbios-structure.js";

export const SMBIOS_TABLES_FILE = "etc/smbios/smbios-tables";
export const SMBIOS_ANCHOR_FILE = "etc/smbios/smbios-anchor";

/** Handle bases per structure type: a structure's handle is its base plus its instance. */
const HANDLE = { t1: 0x100, t3: 0x300, t4: 0x400, t16: 0x1000, t17: 0x1100, t19: 0x1300, t32: 0x2000, t127: 0x7f00 };
const KIB = 1024n;
const MIB = 1024n * KIB;
/** Each type 17 memory device describes at most 16 GiB of RAM, the last one the rest. */
const MAX_DIMM_SIZE = 16n * 1024n * MIB;
/** Type 16's 32-bit capacity (in KiB) gives way to its 64-bit extended field (in bytes) from 2 TiB. */
const MAX_T16_STD_KIB = 0x8000_0000n;
const NOT_PROVIDED_HANDLE = 0xfffe;
const NO_CACHE_HANDLE = 0xffff;
/** The processors' speed QEMU reports when not told (type4.max_speed/current_speed), in MHz. */
const DEFAULT_CPU_SPEED_MHZ = 2000;
/** The 32-bit (SMBIOS 2.1) entry point: 31 bytes, "_SM_" then "_DMI_" at 16, SMBIOS 2.8. */
const EP21_SIZE = 31;
const SMBIOS_MAJOR = 2;
const SMBIOS_MINOR = 8;

/** A RAM range of the e820 map, in bytes; each becomes a type 19 memory array mapped address. */
export interface SmbiosRamArea {
  readonly address: bigint;
  readonly length: bigint;
}

/** What the tables describe, as QEMU 7.2 takes it from the machine (smbios_set_defaults, smbios_set_cpuid). */
export interface SmbiosConfig {
  /** Types 1, 3, 4 and 17's manufacturer ("QEMU"). */
  readonly manufacturer: string;
  /** Type 1's product: the machine's description ("Standard PC (i440FX + PIIX, 1996)"). */
  readonly product: string;
  /** Types 1, 3 and 4's version: the machine type ("pc-i440fx-7.2"). */
  readonly version: string;
  /** The machine's UUID in RFC 4122 byte order (QEMU's -uuid; all zero when not given). */
  readonly uuid: Uint8Array;
  /** Guest RAM in bytes (-m). */
  readonly ramSize: bigint;
  /** The e820 RAM entries, in the map's order. */
  readonly ramAreas: readonly SmbiosRamArea[];
  /** Sockets, and cores per socket and threads per core (-smp). */
  readonly sockets: number;
  readonly cores: number;
  readonly threads: number;
  /** The first vCPU's CPUID.1 EAX (signature) and EDX (features) after KVM's filtering. */
  readonly cpuidVersion: number;
  readonly cpuidFeatures: number;
}

export interface SmbiosBuildResult {
  /** `etc/smbios/smbios-tables`: the structures, the type 127 end-of-table last. */
  readonly tables: Uint8Array;
  /** `etc/smbios/smbios-anchor`: the entry point, checksums and table address left for the firmware. */
  readonly anchor: Uint8Array;
}

const isU32 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;

function validate(config: SmbiosConfig): void {
  const fail = (field: string, what: string) => {
    throw new PcError("E_PC_SMBIOS", `smbiosBuild: ${field} ${what}`);
  };
  for (const field of ["manufacturer", "product", "version"] as const) {
    if (typeof config[field] !== "string" || /[^\x20-\x7e]/.test(config[field])) {
      fail(field, "must be a string of printable ASCII");
    }
  }
  if (!(config.uuid instanceof Uint8Array) || config.uuid.length !== 16) fail("uuid", "must be 16 bytes");
  if (typeof config.ramSize !== "bigint" || config.ramSize <= 0n || config.ramSize >= 1n << 64n) {
    fail("ramSize", "must be a bigint in 1 .. 2^64-1");
  }
  if (!Array.isArray(config.ramAreas)) fail("ramAreas", "must be an array");
  config.ramAreas.forEach((area, i) => {
    if (typeof area?.address !== "bigint" || typeof area.length !== "bigint" || area.length <= 0n) {
      fail(`ramAreas[${i}]`, "must have a bigint address and a positive bigint length");
    }
    if (area.address < 0n || area.address + area.length > 1n << 64n) fail(`ramAreas[${i}]`, "must lie below 2^64");
  });
  for (const field of ["sockets", "cores", "threads"] as const) {
    const v = config[field];
    // Type 4 handles run from 0x400 to the type 16 handle 0x1000.
    const max = field === "sockets" ? HANDLE.t16 - HANDLE.t4 : 0xffff;
    if (!Number.isInteger(v) || v < 1 || v > max) fail(field, `must be an integer in 1 .. ${max}`);
  }
  if (!isU32(config.cpuidVersion)) fail("cpuidVersion", "must be a 32-bit unsigned integer");
  if (!isU32(config.cpuidFeatures)) fail("cpuidFeatures", "must be a 32-bit unsigned integer");
}

/** The UUID as SMBIOS 2.6+ stores it: time_low, time_mid and time_hi_and_version little-endian. */
function encodeUuid(uuid: Uint8Array): Uint8Array {
  const out = uuid.slice();
  out.set([uuid[3]!, uuid[2]!, uuid[1]!, uuid[0]!, uuid[5]!, uuid[4]!, uuid[7]!, uuid[6]!]);
  return out;
}

/** Type 1, System Information. */
function type1(c: SmbiosConfig): SmbiosStructure {
  const s = new SmbiosStructure(1, 0x1b, HANDLE.t1);
  s.str(4, c.manufacturer);
  s.str(5, c.product);
  s.str(6, c.version);
  s.bytes(8, encodeUuid(c.uuid));
  s.u8(0x18, 0x06); // wake-up type: power switch
  return s;
}

/** Type 3, System Enclosure: "other", every state "safe", security "unknown". */
function type3(c: SmbiosConfig): SmbiosStructure {
  const s = new SmbiosStructure(3, 0x16, HANDLE.t3);
  s.str(4, c.manufacturer);
  s.u8(5, 0x01);
  s.str(6, c.version);
  s.u8(9, 0x03);
  s.u8(10, 0x03);
  s.u8(11, 0x03);
  s.u8(12, 0x02);
  return s;
}

/** Type 4, Processor Information (the SMBIOS 2.6 layout, 42 bytes), one per socket. */
function type4(c: SmbiosConfig, socket: number): SmbiosStructure {
  const s = new SmbiosStructure(4, 0x2a, HANDLE.t4 + socket);
  // QEMU formats the socket number as "%2x" after "CPU": "CPU 0" .. "CPU f", then "CPU10".
  s.str(4, `CPU${socket.toString(16).padStart(2, " ")}`);
  s.u8(5, 0x03); // central processor
  s.u8(6, 0x01); // family: other
  s.str(7, c.manufacturer);
  s.u32(8, c.cpuidVersion);
  s.u32(12, c.cpuidFeatures);
  s.str(16, c.version);
  s.u16(20, DEFAULT_CPU_SPEED_MHZ);
  s.u16(22, DEFAULT_CPU_SPEED_MHZ);
  s.u8(24, 0x41); // socket populated, CPU enabled
  s.u8(25, 0x01); // upgrade: other
  s.u16(26, NO_CACHE_HANDLE);
  s.u16(28, NO_CACHE_HANDLE);
  s.u16(30, NO_CACHE_HANDLE);
  const cores = Math.min(c.cores, 0xff);
  s.u8(35, cores);
  s.u8(36, cores);
  // QEMU 7.2.22 counts the socket's threads here (cores x threads: 2 for -smp 2), not a core's.
  s.u8(37, Math.min(c.cores * c.threads, 0xff));
  s.u16(38, 0x02); // characteristics: unknown
  s.u16(40, 0x01); // family 2: other
  return s;
}

/** Type 16, Physical Memory Array: system memory with multi-bit ECC, holding `dimms` devices. */
function type16(c: SmbiosConfig, dimms: number): SmbiosStructure {
  const s = new SmbiosStructure(16, 0x17, HANDLE.t16);
  s.u8(4, 0x01);
  s.u8(5, 0x03);
  s.u8(6, 0x06);
  const kib = (c.ramSize + KIB - 1n) / KIB;
  if (kib < MAX_T16_STD_KIB) {
    s.u32(7, Number(kib));
  } else {
    s.u32(7, Number(MAX_T16_STD_KIB));
    s.u64(15, c.ramSize);
  }
  s.u16(11, NOT_PROVIDED_HANDLE);
  s.u16(13, dimms);
  return s;
}

/** Type 17, Memory Device: DIMM `index` of `size` bytes, of "other" RAM. */
function type17(c: SmbiosConfig, index: number, size: bigint): SmbiosStructure {
  const s = new SmbiosStructure(17, 0x28, HANDLE.t17 + index);
  s.u16(4, HANDLE.t16);
  s.u16(6, NOT_PROVIDED_HANDLE);
  s.u16(8, 0xffff); // total width: unknown
  s.u16(10, 0xffff); // data width: unknown
  // At most 16 GiB: 16384 MiB always fits the 15-bit size (its extended field stays 0).
  s.u16(12, Number((size + MIB - 1n) / MIB));
  s.u8(14, 0x09); // form factor: DIMM
  s.str(16, `DIMM ${index}`);
  s.u8(18, 0x07); // type: RAM
  s.u16(19, 0x02); // type detail: other
  s.str(23, c.manufacturer);
  return s;
}

/** Type 19, Memory Array Mapped Address: one e820 RAM range, in KiB, or in bytes when KiB do not fit. */
function type19(handle: number, area: SmbiosRamArea): SmbiosStructure {
  const s = new SmbiosStructure(19, 0x1f, handle);
  const end = area.address + area.length - 1n;
  const startKib = area.address / KIB;
  const endKib = end / KIB;
  if (startKib < 0xffff_ffffn && endKib < 0xffff_ffffn) {
    s.u32(4, Number(startKib));
    s.u32(8, Number(endKib));
  } else {
    s.u32(4, 0xffff_ffff);
    s.u32(8, 0xffff_ffff);
    s.u64(15, area.address);
    s.u64(23, end);
  }
  s.u16(12, HANDLE.t16);
  s.u8(14, 1); // partition width
  return s;
}

/** The 32-bit entry point as QEMU hands it over: lengths and counts set, checksums and address zero. */
function entryPoint(tablesLength: number, maxStructure: number, count: number): Uint8Array {
  const ep = new Uint8Array(EP21_SIZE);
  const view = new DataView(ep.buffer);
  ep.set([0x5f, 0x53, 0x4d, 0x5f], 0); // "_SM_"
  ep[5] = EP21_SIZE;
  ep[6] = SMBIOS_MAJOR;
  ep[7] = SMBIOS_MINOR;
  view.setUint16(8, maxStructure, true);
  ep.set([0x5f, 0x44, 0x4d, 0x49, 0x5f], 16); // "_DMI_"
  view.setUint16(22, tablesLength, true);
  view.setUint16(28, count, true);
  ep[30] = (SMBIOS_MAJOR << 4) | SMBIOS_MINOR;
  return ep;
}

/**
 * The SMBIOS tables and 2.1 entry point QEMU 7.2's pc machines give the firmware by default
 * (smbios_get_tables with SMBIOS_ENTRY_POINT_TYPE_32, nothing set by -smbios): types 1, 3, 4
 * per socket, 16, 17 per 16 GiB of RAM, 19 per e820 RAM range, 32 and 127. Type 0 (BIOS
 * information) is left to the firmware, as QEMU leaves it when no type 0 field is given;
 * types 2, 11 and 38 are built only for options this board does not have.
 */
export function smbiosBuild(config: SmbiosConfig): SmbiosBuildResult {
  validate(config);
  const structures: SmbiosStructure[] = [type1(config), type3(config)];
  for (let socket = 0; socket < config.sockets; socket++) structures.push(type4(config, socket));
  const dimms = Number((config.ramSize + MAX_DIMM_SIZE - 1n) / MAX_DIMM_SIZE);
  structures.push(type16(config, dimms));
  for (let i = 0; i < dimms; i++) {
    const size = i < dimms - 1 ? MAX_DIMM_SIZE : ((config.ramSize - 1n) % MAX_DIMM_SIZE) + 1n;
    structures.push(type17(config, i, size));
  }
  // With more DIMMs than handles between 0x1100 and 0x1300, the type 19 handles move up past them.
  const t19Offset = Math.max(0, dimms - (HANDLE.t19 - HANDLE.t17));
  config.ramAreas.forEach((area, i) => {
    structures.push(type19(HANDLE.t19 + t19Offset + i, area));
  });
  structures.push(new SmbiosStructure(32, 0x0b, HANDLE.t32)); // System Boot Information: no errors
  structures.push(new SmbiosStructure(127, 0x04, HANDLE.t127));
  const encoded = structures.map((s) => s.encode());
  const length = encoded.reduce((sum, e) => sum + e.length, 0);
  if (length > 0xffff) {
    throw new PcError("E_PC_SMBIOS", `smbiosBuild: the tables take ${length} bytes, more than the entry point's 65535`);
  }
  const tables = new Uint8Array(length);
  let at = 0;
  let largest = 0;
  for (const e of encoded) {
    tables.set(e, at);
    at += e.length;
    largest = Math.max(largest, e.length);
  }
  return { tables, anchor: entryPoint(length, largest, encoded.length) };
}
