import type { Mc146818Rtc } from "./devices/mc146818rtc.js";
import type { RamSplit } from "./ram-split.js";

const KIB = 1024n;
const MIB = 1024n * KIB;
const REG_EQUIPMENT_BYTE = 0x14;
/** QEMU's boot device codes in CMOS: a = floppy, c = hard disk, d = CD-ROM, n = network. */
const BOOT_DEVICE_CODES: Record<string, number> = { a: 1, c: 2, d: 3, n: 4 };

function capped(value: bigint): number {
  return Number(value > 65535n ? 65535n : value);
}

/**
 * pc_cmos_init: what the PC's CMOS tells firmware. Base memory (0x15/0x16, at most 640 KiB),
 * extended memory above 1 MiB in KiB (0x17/0x18 and 0x30/0x31, at most 65535), memory above
 * 16 MiB in 64 KiB units (0x34/0x35), memory above 4 GiB in 64 KiB units (0x5b-0x5d), the
 * CPU count minus one (0x5f), the boot order ("cad" by default: 0x3d, 0x38) and the
 * equipment byte (an FPU and a PS/2 mouse; no floppy drive, no disks: 0x10, 0x12 stay 0).
 */
export function pcCmosInit(rtc: Mc146818Rtc, ram: RamSplit, cpus: number, bootOrder = "cad"): void {
  const base = ram.below4g / KIB < 640n ? ram.below4g / KIB : 640n;
  rtc.setMemory(0x15, Number(base));
  rtc.setMemory(0x16, Number(base >> 8n));
  const ext = capped(ram.below4g > MIB ? (ram.below4g - MIB) / KIB : 0n);
  for (const at of [0x17, 0x30]) {
    rtc.setMemory(at, ext);
    rtc.setMemory(at + 1, ext >> 8);
  }
  const above16m = capped(ram.below4g > 16n * MIB ? (ram.below4g - 16n * MIB) / (64n * KIB) : 0n);
  rtc.setMemory(0x34, above16m);
  rtc.setMemory(0x35, above16m >> 8);
  const high = Number(ram.above4g / 65536n);
  rtc.setMemory(0x5b, high);
  rtc.setMemory(0x5c, high >> 8);
  rtc.setMemory(0x5d, high >> 16);
  rtc.setMemory(0x5f, cpus - 1);
  const codes = [...bootOrder].map((c) => BOOT_DEVICE_CODES[c] ?? 0);
  rtc.setMemory(0x3d, ((codes[1] ?? 0) << 4) | (codes[0] ?? 0));
  // The low bit of 0x38 would skip the floppy boot-sector signature check; QEMU keeps the check.
  rtc.setMemory(0x38, (codes[2] ?? 0) << 4);
  rtc.setMemory(REG_EQUIPMENT_BYTE, 0x02 | 0x04);
}
