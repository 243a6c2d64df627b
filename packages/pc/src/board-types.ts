import type { KvmAttachment, KvmMemoryListener, KvmUserspaceMemoryRegion } from "@memtopo/kvm";
import type { MemoryRegion } from "@memtopo/region-tree";
import type { AddressSpace, MemorySystem } from "memtopo";
import type { PcAccel, PcVcpu } from "./accel.js";
import type { Piix4Pm } from "./acpi/piix4.js";
import type { Debugcon } from "./devices/debugcon.js";
import type { FwCfg } from "./devices/fw-cfg.js";
import type { KvmVapic } from "./devices/kvmvapic.js";
import type { Mc146818Rtc } from "./devices/mc146818rtc.js";
import type { Pckbd } from "./devices/pckbd.js";
import type { Port92 } from "./devices/port92.js";
import type { Serial } from "./devices/serial.js";
import type { I440fx } from "./pci/i440fx.js";
import type { PiixIde } from "./pci/ide-piix.js";
import type { PciBusSpaces, PciDevice } from "./pci/pci-device.js";
import type { PciHost } from "./pci/pci-host.js";
import type { Piix3 } from "./pci/piix3.js";
import type { RamSplit } from "./ram-split.js";
import type { PcRunOptions, PcRunResult } from "./run.js";

export interface PcBoardOptions {
  /** Guest RAM in bytes (QEMU's -m). */
  readonly ramSize: bigint;
  /** The firmware image (e.g. /usr/share/seabios/bios.bin), a multiple of 64 KiB. */
  readonly bios: Uint8Array;
  /** The KVM backend; without one the board is built on the facade alone (no memslots). */
  readonly accel?: PcAccel;
  /** QEMU's `-machine smm=` (default on): the KVM-SMRAM space, and SMIs from APM. */
  readonly smm?: boolean;
  /**
   * QEMU's `-cpu`: "qemu64" (QEMU's default model: an AMD family 15 CPU with KVM's paravirtual
   * leaves, masked by what KVM supports) or "host" (everything this host's KVM supports).
   * Default "qemu64", as QEMU's.
   */
  readonly cpu?: "qemu64" | "host";
  /** QEMU's `-machine acpi=` (default on): the ACPI tables and their loader script in fw_cfg. */
  readonly acpi?: boolean;
  /**
   * QEMU's kvm-apic.vapic (default off here, on in QEMU): the kvmvapic device at port 0x7e, and
   * with `vapicRom` its option ROM in fw_cfg as `genroms/kvmvapic.bin`.
   */
  readonly vapic?: boolean;
  /** The kvmvapic option ROM (QEMU's `kvmvapic.bin`, /usr/share/qemu/kvmvapic.bin on Debian). */
  readonly vapicRom?: Uint8Array;
  /** Adds isa-debugcon at 0x402 (default on, as `-device isa-debugcon,iobase=0x402`). */
  readonly debugcon?: boolean;
  /** Bytes the guest writes to the debug console; returning true stops the run with "until". */
  readonly onDebugcon?: (bytes: Uint8Array) => boolean | undefined;
  /** Adds the 16550 UART at 0x3f8 (default off: `-nodefaults` has none); its output goes here. */
  readonly serial?: (bytes: Uint8Array) => void;
  /** Every KVM_SET_USER_MEMORY_REGION the kernel accepted, from the first on. */
  readonly onMemslot?: (region: KvmUserspaceMemoryRegion) => void;
  /** The guest's wall clock in ms since the epoch (default Date.now) and its monotonic ns (default hrtime). */
  readonly clock?: { readonly wallMs: () => number; readonly nanos: () => bigint };
}

/** The address spaces of the board, named as QEMU names them. */
export interface PcSpaces {
  readonly memory: AddressSpace;
  readonly io: AddressSpace;
  readonly cpuMemory: AddressSpace;
  /** "KVM-SMRAM": what SMM code sees; null with smm off or without a KVM backend with two address spaces. */
  readonly smram: AddressSpace | null;
}

/** The board's main regions, by QEMU's names. */
export interface PcRegions {
  readonly system: MemoryRegion;
  readonly io: MemoryRegion;
  readonly pci: MemoryRegion;
  readonly ram: MemoryRegion;
  readonly ramBelow4g: MemoryRegion;
  readonly ramAbove4g: MemoryRegion | null;
  readonly bios: MemoryRegion;
  readonly isaBios: MemoryRegion;
  readonly pcRom: MemoryRegion;
}

export interface PcDevices {
  readonly pciHost: PciHost;
  readonly i440fx: I440fx;
  readonly piix3: Piix3;
  readonly ide: PiixIde;
  readonly pm: Piix4Pm;
  readonly fwCfg: FwCfg;
  readonly rtc: Mc146818Rtc;
  readonly kbd: Pckbd;
  readonly port92: Port92;
  readonly debugcon: Debugcon | null;
  readonly serial: Serial | null;
  readonly vapic: KvmVapic | null;
}

/** Why the board asked to stop: the guest requested a reset or a shutdown (QEMU's -no-reboot). */
export interface PcStopRequest {
  readonly kind: "reset" | "shutdown";
  readonly reason: string;
}

export interface PcBoard {
  readonly system: MemorySystem;
  readonly ramSplit: RamSplit;
  readonly spaces: PcSpaces;
  /** Every address space, in creation order (QEMU's), for `printMtree`/`printMtreeFlat`. */
  readonly addressSpaces: readonly AddressSpace[];
  readonly regions: PcRegions;
  readonly devices: PcDevices;
  /** The KVM listeners (memory, I/O, and KVM-SMRAM as KVM address space 1); null without a backend. */
  readonly kvm: KvmAttachment<AddressSpace> | null;
  readonly smramListener: KvmMemoryListener | null;
  /** QEMU's `kvm_accel_has_memory`, for the ` KVM` suffix of `info mtree -f`. */
  hasMemory(as: object, start: bigint, size: bigint): boolean;
  /** Everything the guest wrote to the debug console so far, as text. */
  readonly debugconText: string;
  /** The first reset or shutdown the guest requested, if any. */
  readonly stopRequest: PcStopRequest | null;
  /** The vCPU, once the backend made one. */
  readonly vcpu: PcVcpu | null;
  /** Runs the vCPU from the reset state until a stop (see {@link PcRunOptions}). */
  run(options?: PcRunOptions): PcRunResult;
  /** What a PCI function for bus 0 is built on (`new PciDevice(board.pciBusSpaces, ...)`). */
  readonly pciBusSpaces: PciBusSpaces;
  /**
   * QEMU's `device_add` of a PCI function on bus 0 while the machine runs: it appears at its devfn,
   * PCIU (0xae00) has its slot and GPE0 status bit 1 raises the SCI where the guest enabled it.
   * Refused for a function that is not hot-pluggable, or a devfn (or function 0 of its slot) in use.
   */
  hotplugPci(fn: PciDevice): void;
  /**
   * QEMU's `device_del`: PCID has the function's slot and GPE0 bit 1 is raised; the function goes when
   * the guest ejects the slot through B0EJ. Refused for a function not on bus 0 or not hot-pluggable.
   */
  unplugPci(fn: PciDevice): void;
}
