import { FW_CFG, type FwCfg } from "./devices/fw-cfg.js";
import type { RamSplit } from "./ram-split.js";

/** e820 entry types. */
export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface E820Entry {
  readonly address: bigint;
  readonly length: bigint;
  readonly type: number;
}

/** KVM's identity-map page and TSS, which QEMU places under the BIOS and reserves. */
export const KVM_IDENTITY_MAP_BASE = 0xfeffc000n;
const KVM_IDENTITY_MAP_SIZE = 0x4000n;
/** The HyperTransport hole below 1 TiB, reserved for AMD vCPUs (QEMU's default qemu64 is one). */
const AMD_HT_START = 0xfd_0000_0000n;
const AMD_HT_SIZE = 0x3_0000_0000n;

/**
 * The e820 table in the order QEMU 7.2 adds entries: KVM's identity map (kvm_arch_init), the
 * AMD HyperTransport hole (pc_memory_init, 40 physical address bits), then RAM below and
 * above 4 GiB.
 */
export function pcE820(ram: RamSplit): E820Entry[] {
  const table: E820Entry[] = [
    { address: KVM_IDENTITY_MAP_BASE, length: KVM_IDENTITY_MAP_SIZE, type: E820_RESERVED },
    { address: AMD_HT_START, length: AMD_HT_SIZE, type: E820_RESERVED },
    { address: 0n, length: ram.below4g, type: E820_RAM },
  ];
  if (ram.above4g > 0n) table.push({ address: 0x1_0000_0000n, length: ram.above4g, type: E820_RAM });
  return table;
}

/** `struct e820_entry` (address, length: u64; type: u32; little-endian, packed). */
function encodeE820(entries: readonly E820Entry[]): Uint8Array {
  const out = new Uint8Array(20 * entries.length);
  const view = new DataView(out.buffer);
  entries.forEach((e, i) => {
    view.setBigUint64(20 * i, e.address, true);
    view.setBigUint64(20 * i + 8, e.length, true);
    view.setUint32(20 * i + 16, e.type, true);
  });
  return out;
}

/** The legacy FW_CFG_E820_TABLE: a count and 16 slots holding only the reserved entries. */
function encodeE820Reserve(entries: readonly E820Entry[]): Uint8Array {
  const reserved = entries.filter((e) => e.type === E820_RESERVED);
  const out = new Uint8Array(4 + 20 * 16);
  new DataView(out.buffer).setUint32(0, reserved.length, true);
  out.set(encodeE820(reserved), 4);
  return out;
}

/**
 * fw_cfg_arch_create (hw/i386/fw_cfg.c) and the items fw_cfg itself adds: CPU counts, the
 * RAM size, IRQ0 override, `etc/e820` and the legacy reserved table, the NUMA word (no
 * nodes), no graphics, no boot menu, a zero UUID, and `etc/boot-fail-wait` (-1: no reboot).
 */
export function fwCfgArchCreate(fwCfg: FwCfg, ramSize: bigint, ram: RamSplit, cpus: number): void {
  const e820 = pcE820(ram);
  fwCfg.addBytes(FW_CFG.UUID, new Uint8Array(16));
  fwCfg.addI16(FW_CFG.NOGRAPHIC, 0);
  fwCfg.addI16(FW_CFG.BOOT_MENU, 0);
  fwCfg.addI16(FW_CFG.NB_CPUS, cpus);
  fwCfg.addI16(FW_CFG.MAX_CPUS, cpus);
  fwCfg.addI64(FW_CFG.RAM_SIZE, ramSize);
  fwCfg.addI32(FW_CFG.IRQ0_OVERRIDE, 1);
  fwCfg.addFile("etc/e820", encodeE820(e820));
  fwCfg.addBytes(FW_CFG.E820_TABLE, encodeE820Reserve(e820));
  fwCfg.addBytes(FW_CFG.NUMA, new Uint8Array(8 * (1 + cpus)));
  fwCfg.addFile("etc/boot-fail-wait", new Uint8Array([0xff, 0xff, 0xff, 0xff]));
}
