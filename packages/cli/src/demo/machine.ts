import { type EventNotifier, MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { type AddressSpace, type MemorySystem, UNASSIGNED_IO_OPS } from "memtopo";
import { DEMO_DEV_DOORBELL, DemoMmioDevice, DemoUart, PostCodePort } from "./devices.js";

/** Guest RAM: 256 MiB, split at 128 MiB as QEMU's pc does with `max-ram-below-4g=128M`. */
export const RAM_SIZE = 0x1000_0000n;
export const RAM_BELOW_4G = 0x800_0000n;
export const ABOVE_4G_BASE = 0x1_0000_0000n;
export const BIOS_SIZE = 0x4_0000n;
export const BIOS_BASE = 0x1_0000_0000n - BIOS_SIZE;
export const VRAM_SIZE = 0x100_0000n;
export const VRAM_BAR = 0xfd00_0000n;
/** Where the demo device's BAR starts, and where the BAR-move step puts it. */
export const DEMO_BAR = 0xfebf_0000n;
export const DEMO_BAR_MOVED = 0xfe00_0000n;
export const UART_PORT = 0x3f8n;
export const POST_PORT = 0x80n;
/** What the ROM holds at isa-bios offset 0 (guest address 0xe0000). */
export const BIOS_SIGNATURE = "memtopo demo BIOS";

/** What a PAM segment decodes: PCI (the BIOS shows through), read-only RAM, or RAM. */
export type PamMode = "pci" | "rom" | "ram";

/** One Programmable Attribute Map segment: three aliases of which exactly one is enabled. */
export interface PamSegment {
  readonly start: bigint;
  readonly size: bigint;
  readonly aliases: Readonly<Record<PamMode, MemoryRegion>>;
}

/** The embedded PC-like machine of `memtopo demo`, built with the public API only. */
export interface DemoMachine {
  readonly system: MemorySystem;
  readonly memory: AddressSpace;
  readonly io: AddressSpace;
  readonly pcRam: MemoryRegion;
  readonly pcBios: MemoryRegion;
  readonly demoBar: MemoryRegion;
  readonly pam: readonly PamSegment[];
  readonly device: DemoMmioDevice;
  readonly uart: DemoUart;
  readonly post: PostCodePort;
  setPam(segment: PamSegment, mode: PamMode): void;
}

/** PAM0 covers the BIOS at 0xf0000 in one 64 KiB piece; PAM1-6 split 0xc0000-0xeffff in 16 KiB pieces. */
function pamRanges(): { start: bigint; size: bigint }[] {
  const out = [];
  for (let start = 0xc_0000n; start < 0xf_0000n; start += 0x4000n) out.push({ start, size: 0x4000n });
  out.push({ start: 0xf_0000n, size: 0x1_0000n });
  return out;
}

/**
 * Builds the demo machine into `system` in one transaction: RAM below and above 4 GiB (two
 * aliases of one RAM region), the PCI space at priority -1 (what shows through the PCI
 * hole), the BIOS ROM at the top of 4 GiB with its isa-bios alias, VGA (VRAM as a BAR, the
 * legacy window over it and the SMRAM window that lets it show over RAM), PAM aliases, an
 * MMIO device whose doorbell is an ioeventfd, and a UART and a POST port on I/O.
 */
export function buildDemoMachine(system: MemorySystem, doorbell: EventNotifier): DemoMachine {
  const region = (init: ConstructorParameters<typeof MemoryRegion>[1]) => new MemoryRegion(system, init);
  const device = new DemoMmioDevice();
  const uart = new DemoUart();
  const post = new PostCodePort();
  system.begin();
  try {
    const root = region({ kind: "container", name: "system", size: SIZE_2_64 });
    const pcRam = region({ kind: "ram", name: "pc.ram", size: RAM_SIZE });
    root.addSubregion(
      0n,
      region({ kind: "alias", name: "ram-below-4g", target: pcRam, offset: 0n, size: RAM_BELOW_4G }),
    );
    const above = region({
      kind: "alias",
      name: "ram-above-4g",
      target: pcRam,
      offset: RAM_BELOW_4G,
      size: RAM_SIZE - RAM_BELOW_4G,
    });
    root.addSubregion(ABOVE_4G_BASE, above);

    const pci = region({ kind: "container", name: "pci", size: SIZE_2_64 });
    root.addSubregionOverlap(0n, pci, -1);
    const pcBios = region({ kind: "rom", name: "pc.bios", size: BIOS_SIZE });
    loadBios(pcBios);
    pci.addSubregion(BIOS_BASE, pcBios);
    const isaBios = region({ kind: "alias", name: "isa-bios", target: pcBios, offset: 0x2_0000n, size: 0x2_0000n });
    isaBios.setReadonly(true);
    pci.addSubregionOverlap(0xe_0000n, isaBios, 1);

    const vram = region({ kind: "ram", name: "vga.vram", size: VRAM_SIZE });
    vram.setLog(true, "vga");
    pci.addSubregionOverlap(VRAM_BAR, vram, 1);
    const lowmem = region({
      kind: "io",
      name: "vga-lowmem",
      size: 0x2_0000n,
      ops: { read: () => 0xffn, write: () => {} },
    });
    pci.addSubregionOverlap(0xa_0000n, lowmem, 1);
    const chain4 = region({ kind: "alias", name: "vga.chain4", target: vram, offset: 0n, size: 0x1_0000n });
    pci.addSubregionOverlap(0xa_0000n, chain4, 2);
    // SMRAM closed: the legacy VGA window of PCI shows over low RAM.
    const smram = region({ kind: "alias", name: "smram-region", target: pci, offset: 0xa_0000n, size: 0x2_0000n });
    root.addSubregionOverlap(0xa_0000n, smram, 1);

    const demoBar = region({ kind: "io", name: "demo-mmio", size: 0x1000n, ops: device.ops });
    demoBar.addEventfd(DEMO_DEV_DOORBELL, 4, false, 0n, doorbell);
    pci.addSubregionOverlap(DEMO_BAR, demoBar, 1);

    const pam = pamRanges().map(({ start, size }): PamSegment => {
      const aliases = {
        pci: region({ kind: "alias", name: "pam-pci", target: pci, offset: start, size }),
        rom: region({ kind: "alias", name: "pam-rom", target: pcRam, offset: start, size }),
        ram: region({ kind: "alias", name: "pam-ram", target: pcRam, offset: start, size }),
      };
      aliases.rom.setReadonly(true);
      for (const mode of ["pci", "rom", "ram"] as const) {
        if (mode !== "pci") aliases[mode].setEnabled(false);
        root.addSubregionOverlap(start, aliases[mode], 1);
      }
      return { start, size, aliases };
    });

    const io = region({ kind: "io", name: "io", size: 0x1_0000n, ops: UNASSIGNED_IO_OPS });
    io.addSubregion(POST_PORT, region({ kind: "io", name: "post", size: 1n, ops: post.ops }));
    io.addSubregion(UART_PORT, region({ kind: "io", name: "demo-uart", size: 8n, ops: uart.ops }));

    const memory = system.createAddressSpace("memory", root);
    const ioSpace = system.createAddressSpace("I/O", io);
    return {
      system,
      memory,
      io: ioSpace,
      pcRam,
      pcBios,
      demoBar,
      pam,
      device,
      uart,
      post,
      setPam(segment, mode) {
        system.begin();
        try {
          for (const m of ["pci", "rom", "ram"] as const) segment.aliases[m].setEnabled(m === mode);
        } finally {
          system.commit();
        }
      },
    };
  } finally {
    system.commit();
  }
}

/** The firmware image: a signature where isa-bios starts and a far jump at the reset vector. */
function loadBios(bios: MemoryRegion): void {
  const bytes = bios.ramBlock!.bytes();
  bytes.set(new TextEncoder().encode(BIOS_SIGNATURE), 0x2_0000);
  bytes.set([0xea, 0x5b, 0xe0, 0x00, 0xf0], Number(BIOS_SIZE) - 16);
}
