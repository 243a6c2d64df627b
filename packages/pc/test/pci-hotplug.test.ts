import { printMtree } from "@memtopo/qemu-text";
import { MemoryRegion } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { type PcBoard, PcError, PciDevice } from "../src/index.js";
import { mockBoard } from "./fixtures.js";
import { cfgRead, cfgWrite } from "./helpers.js";

const BASE = 0xae00n;
const PCIU = BASE;
const PCID = BASE + 0x4n;
const B0EJ = BASE + 0x8n;
const PCRM = BASE + 0xcn;
const BNUM = BASE + 0x10n;
const AIDX = BASE + 0x14n;
/** GPE0 at 0xafe0: status bytes then enable bytes; bit 1 is PCI hot-plug. */
const GPE0_STS = 0xafe0n;
const GPE0_EN = 0xafe2n;
const SCI_GSI = 9;

const read32 = (board: PcBoard, port: bigint) => Number(board.spaces.io.readValue(port, 4).value);
const write32 = (board: PcBoard, port: bigint, value: number) => board.spaces.io.writeValue(port, 4, BigInt(value));

/** A hot-pluggable function with a 16-byte I/O BAR 0 (registers read 0x5a), like a small NIC. */
function testDevice(board: PcBoard, slot: number, options: { fn?: number; acpiIndex?: number } = {}) {
  const regs = new MemoryRegion(board.system, {
    kind: "io",
    name: `test-bar-${slot}`,
    size: 16n,
    ops: { endianness: "little", read: () => 0x5an, write: () => {} },
  });
  const device = new PciDevice(board.pciBusSpaces, {
    name: `test-dev-${slot}`,
    devfn: (slot << 3) | (options.fn ?? 0),
    vendorId: 0x1234,
    deviceId: 0x11e8,
    revision: 1,
    classId: 0x00ff,
    ...(options.acpiIndex === undefined ? {} : { acpiIndex: options.acpiIndex }),
  });
  device.registerIoBar(0, 16, regs);
  return device;
}

/** The firmware's part: BAR 0 at `port`, Command.IO on. */
function mapBar(board: PcBoard, slot: number, port: number): void {
  cfgWrite(board, slot, 0, 0x10, 4, port);
  cfgWrite(board, slot, 0, 0x04, 2, 0x1);
}

const sciLevels = (kvm: ReturnType<typeof mockBoard>["kvm"]) =>
  kvm.calls.filter((c) => c.method === "irqLine" && c.args[0] === SCI_GSI).map((c) => c.args[1]);

// Rule (QEMU 7.2 hw/acpi/pcihp.c, acpi_pcihp_io_ops on PIIX4 at 0xae00, 0x18 bytes with AIDX):
// the chipset's functions (i440FX in slot 0, PIIX3/IDE/PM in slot 1) are not hot-pluggable, so
// acpi_pcihp_reset leaves them out of PCRM; with nothing plugged PCIU and PCID read 0.
describe("ACPI PCI hot-plug registers at 0xae00", () => {
  it("at reset: PCRM has every slot but 0 and 1, PCIU/PCID/B0EJ/BNUM read 0, 0x18 bytes mapped", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    const range = board.spaces.io.currentMap.lookup(BASE);
    expect({ name: range?.mr.name, size: range?.mr.size }).toEqual({ name: "acpi-pci-hotplug", size: 0x18n });
    expect(read32(board, PCRM) >>> 0).toBe(0xffff_fffc);
    expect([PCIU, PCID, B0EJ, BNUM, AIDX].map((p) => read32(board, p))).toEqual([0, 0, 0, 0, 0]);
  });

  // Rule (acpi_pcihp_device_plug_cb, acpi_send_gpe_event, acpi_update_sci): a plug sets the slot's
  // up bit and GPE0 status bit 1; the SCI (GSI 9) rises only while GPE0 enable bit 1 is set.
  // PCIU is cleared by its read (bridge support on, as pc-i440fx-7.2 has it).
  it("a hot-plug: the function answers at its devfn, PCIU has its slot once, GPE0 bit 1 and the SCI", () => {
    const { board, kvm } = mockBoard({ ramSize: 128n << 20n });
    expect(cfgRead(board, 5, 0, 0, 4) >>> 0).toBe(0xffff_ffff);
    board.hotplugPci(testDevice(board, 5));
    expect(cfgRead(board, 5, 0, 0, 4) >>> 0).toBe(0x11e8_1234);
    expect(Number(board.spaces.io.readValue(GPE0_STS, 1).value)).toBe(0x2);
    // GPE0 bit 1 not enabled yet: the SCI stays low.
    expect(sciLevels(kvm)).toEqual([false]);
    board.spaces.io.writeValue(GPE0_EN, 1, 0x2n);
    expect(sciLevels(kvm).at(-1)).toBe(true);
    expect(read32(board, PCIU) >>> 0).toBe(1 << 5);
    expect(read32(board, PCIU)).toBe(0);
    // _E01's handler clears the status bit: the SCI drops.
    board.spaces.io.writeValue(GPE0_STS, 1, 0x2n);
    expect(sciLevels(kvm).at(-1)).toBe(false);
  });

  // Rule (acpi_pcihp_device_unplug_request_cb, acpi_pcihp_eject_slot, pci_qdev_unrealize): an
  // unplug request only sets the down bit; the guest's B0EJ write removes the slot's functions
  // (their BARs leave the I/O space, the bus-master space goes) and clears the slot's bits.
  it("an unplug: PCID has the slot until B0EJ, which removes the device and its BAR from the map", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    const device = testDevice(board, 6);
    board.hotplugPci(device);
    mapBar(board, 6, 0xc100);
    expect(Number(board.spaces.io.readValue(0xc104n, 1).value)).toBe(0x5a);
    expect(printMtree(board.addressSpaces)).toContain("000000000000c100-000000000000c10f (prio 1, i/o): test-bar-6");
    expect(board.addressSpaces).toContain(device.busMasterAs);

    board.unplugPci(device);
    expect(read32(board, PCID) >>> 0).toBe(1 << 6);
    expect(cfgRead(board, 6, 0, 0, 2)).toBe(0x1234);

    write32(board, B0EJ, 1 << 6);
    expect(read32(board, PCID)).toBe(0);
    expect(read32(board, PCIU)).toBe(0);
    expect(cfgRead(board, 6, 0, 0, 4) >>> 0).toBe(0xffff_ffff);
    const tree = printMtree(board.addressSpaces);
    expect(tree).not.toContain("test-bar-6");
    expect(tree).not.toContain("test-dev-6");
    expect(board.addressSpaces).not.toContain(device.busMasterAs);
    expect(board.spaces.io.currentMap.lookup(0xc104n)?.mr.name).toBe("io");
  });

  // Rule (acpi_pcihp_eject_slot): the lowest set bit names the slot; a mask of 0 names none; a
  // function that is not hot-pluggable stays, though the slot's pending bits are cleared.
  it("B0EJ ejects only the lowest slot of its mask, nothing for 0, and never a chipset function", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    const a = testDevice(board, 3);
    const b = testDevice(board, 4);
    board.hotplugPci(a);
    board.hotplugPci(b);
    write32(board, B0EJ, 0);
    expect(cfgRead(board, 3, 0, 0, 2)).toBe(0x1234);
    write32(board, B0EJ, (1 << 3) | (1 << 4));
    expect(cfgRead(board, 3, 0, 0, 4) >>> 0).toBe(0xffff_ffff);
    expect(cfgRead(board, 4, 0, 0, 2)).toBe(0x1234);
    expect(read32(board, PCIU) >>> 0).toBe(1 << 4);
    write32(board, B0EJ, 1 << 1);
    expect(cfgRead(board, 1, 0, 0, 4) >>> 0).toBe(0x7000_8086);
    expect(cfgRead(board, 1, 3, 0, 4) >>> 0).toBe(0x7113_8086);
    write32(board, B0EJ, 1);
    expect(cfgRead(board, 0, 0, 0, 4) >>> 0).toBe(0x1237_8086);
  });

  // Rule (pci_read/pci_write): BNUM selects the BSEL the other registers describe. A BSEL with no
  // bus still has its status words (PCRM all ones after reset, nothing pending) and ejects nothing;
  // a negative BSEL or one of 256 and up makes every register read 0, BNUM included.
  it("BNUM: another BSEL has no bus (PCRM all ones, B0EJ ejects nothing); a BSEL out of range reads 0", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    board.hotplugPci(testDevice(board, 7));
    write32(board, BNUM, 5);
    expect(read32(board, BNUM)).toBe(5);
    expect(read32(board, PCRM) >>> 0).toBe(0xffff_ffff);
    expect(read32(board, PCIU)).toBe(0);
    write32(board, B0EJ, 1 << 7);
    expect(cfgRead(board, 7, 0, 0, 2)).toBe(0x1234);
    for (const bsel of [256, 0xffff_ffff]) {
      write32(board, BNUM, bsel);
      expect([PCIU, PCID, PCRM, BNUM].map((p) => read32(board, p))).toEqual([0, 0, 0, 0]);
      write32(board, B0EJ, 1 << 7);
      expect(cfgRead(board, 7, 0, 0, 2)).toBe(0x1234);
    }
    write32(board, BNUM, 0);
    expect(read32(board, PCIU) >>> 0).toBe(1 << 7);
  });

  // Rule (PCI_AIDX_BASE): writing a slot mask fetches the acpi-index of the slot's device, which
  // the next read returns once; every write forgets it.
  it("AIDX: a slot mask write fetches the slot's acpi-index for one read; any other write drops it", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    board.hotplugPci(testDevice(board, 9, { acpiIndex: 42 }));
    write32(board, AIDX, 1 << 9);
    expect(read32(board, AIDX)).toBe(42);
    expect(read32(board, AIDX)).toBe(0);
    write32(board, AIDX, 1 << 9);
    write32(board, BNUM, 0);
    expect(read32(board, AIDX)).toBe(0);
    write32(board, AIDX, 1 << 10);
    expect(read32(board, AIDX)).toBe(0);
  });

  // Rule (acpi_pcihp_io_ops.valid: 4-byte accesses only): a 1- or 2-byte access is refused by the
  // memory API, so it neither reads nor clears PCIU nor changes BNUM.
  it("refuses 1- and 2-byte accesses: PCIU is not read (nor cleared), BNUM not written", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    board.hotplugPci(testDevice(board, 8));
    const io = board.spaces.io;
    for (const size of [1, 2]) {
      const r = io.readValue(PCIU, size);
      expect(r.result).not.toBe(0);
      expect(r.value).toBe(0n);
      expect(io.writeValue(BNUM, size, 3n)).not.toBe(0);
    }
    expect(read32(board, BNUM)).toBe(0);
    expect(read32(board, PCIU) >>> 0).toBe(1 << 8);
    // Unaligned 4-byte access inside the block: refused too.
    expect(io.readValue(PCRM + 1n, 4).result).not.toBe(0);
  });

  // Rule (qdev: a device whose class is not hotpluggable cannot be plugged or unplugged while the
  // machine runs; do_pci_register_device: a devfn in use, or a new function behind an existing
  // function 0, is refused; so is a clashing or too large acpi-index): typed errors, nothing changes.
  it("refuses a chipset unplug, a taken devfn, a function behind function 0, a device not on the bus", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    const first = testDevice(board, 10);
    board.hotplugPci(first);
    read32(board, PCIU);
    const refused = (f: () => void, what: RegExp) => {
      expect(f).toThrow(PcError);
      expect(f).toThrow(what);
    };
    refused(() => board.unplugPci(board.devices.piix3), /does not support hot-unplug/);
    refused(() => board.hotplugPci(first), /already on bus 0/);
    refused(() => board.hotplugPci(testDevice(board, 10)), /slot 10 function 0 is in use by test-dev-10/);
    refused(() => board.hotplugPci(testDevice(board, 10, { fn: 2 })), /function 0 is occupied by test-dev-10/);
    refused(() => board.unplugPci(testDevice(board, 11)), /not on bus 0/);
    refused(() => board.hotplugPci(board.devices.ide), /cannot be hot-plugged/);
    // acpi_pcihp_device_pre_plug_cb: acpi-index at most 16383 and unique among present functions.
    board.hotplugPci(testDevice(board, 13, { acpiIndex: 7 }));
    read32(board, PCIU);
    refused(() => board.hotplugPci(testDevice(board, 14, { acpiIndex: 7 })), /acpi-index = 7 already exists/);
    refused(() => board.hotplugPci(testDevice(board, 14, { acpiIndex: 16384 })), /less or equal to 16383/);
    expect(cfgRead(board, 14, 0, 0, 4) >>> 0).toBe(0xffff_ffff);
    expect([PCIU, PCID].map((p) => read32(board, p))).toEqual([0, 0]);
    expect(Number(board.spaces.io.readValue(GPE0_STS, 1).value)).toBe(0x2);
  });

  // Rule (acpi_pcihp_reset via piix4_pm_reset): unplugs the guest never ejected are carried out.
  it("PIIX4's reset ejects what is still waiting for unplug", () => {
    const { board } = mockBoard({ ramSize: 128n << 20n });
    const device = testDevice(board, 12);
    board.hotplugPci(device);
    board.unplugPci(device);
    board.devices.pm.reset();
    expect(read32(board, PCID)).toBe(0);
    expect(cfgRead(board, 12, 0, 0, 4) >>> 0).toBe(0xffff_ffff);
    expect(read32(board, PCRM) >>> 0).toBe(0xffff_fffc);
  });
});
