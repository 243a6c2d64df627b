import type { EventNotifier } from "@memtopo/region-tree";

/**
 * The in-kernel interrupt controllers, timer and clock of an x86 VM, as typed objects:
 * what KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2, KVM_IRQ_LINE, KVM_IRQFD, KVM_SET_GSI_ROUTING,
 * KVM_SIGNAL_MSI and KVM_GET/SET_CLOCK take and give. Both backends implement
 * {@link KvmInterrupts} with the kernel's ordering rules (the irqchip before any vCPU).
 */

/** `KVM_IRQCHIP_PIC_MASTER`, `KVM_IRQCHIP_PIC_SLAVE`, `KVM_IRQCHIP_IOAPIC`: the chip ids of `struct kvm_irqchip`. */
export const KVM_IRQCHIP = { PIC_MASTER: 0, PIC_SLAVE: 1, IOAPIC: 2 } as const;
export type IrqchipId = "pic-master" | "pic-slave" | "ioapic";

/** `KVM_NR_IRQCHIPS`, pins per PIC (`PIC_NUM_PINS / 2`) and per IOAPIC (`KVM_IOAPIC_NUM_PINS`). */
export const KVM_NR_IRQCHIPS = 3;
export const PIC_PINS = 8;
export const IOAPIC_PINS = 24;
/** `KVM_MAX_IRQ_ROUTES`: the most routing entries, and one past the highest GSI, the kernel takes. */
export const KVM_MAX_IRQ_ROUTES = 4096;

/** `struct kvm_pic_state` (an 8259A), every field one byte. */
export interface PicState {
  lastIrr: number;
  irr: number;
  imr: number;
  isr: number;
  priorityAdd: number;
  irqBase: number;
  readRegSelect: number;
  poll: number;
  specialMask: number;
  initState: number;
  autoEoi: number;
  rotateOnAutoEoi: number;
  specialFullyNestedMode: number;
  init4: number;
  elcr: number;
  elcrMask: number;
}

export const PIC_STATE_FIELDS = [
  "lastIrr",
  "irr",
  "imr",
  "isr",
  "priorityAdd",
  "irqBase",
  "readRegSelect",
  "poll",
  "specialMask",
  "initState",
  "autoEoi",
  "rotateOnAutoEoi",
  "specialFullyNestedMode",
  "init4",
  "elcr",
  "elcrMask",
] as const satisfies readonly (keyof PicState)[];

/** One IOAPIC redirection table entry, its bit fields decoded (the reserved bits are kept as `reserved`). */
export interface IoapicRedirection {
  vector: number;
  /** 3 bits: fixed, lowest priority, SMI, NMI, INIT, ExtINT. */
  deliveryMode: number;
  /** 0 physical, 1 logical. */
  destMode: number;
  deliveryStatus: number;
  /** 0 active high, 1 active low. */
  polarity: number;
  remoteIrr: number;
  /** 0 edge, 1 level. */
  triggerMode: number;
  mask: number;
  destId: number;
  /** Bits 17..55, which the kernel stores and gives back. */
  reserved: bigint;
}

/** `struct kvm_ioapic_state`. */
export interface IoapicState {
  baseAddress: bigint;
  ioregsel: number;
  id: number;
  irr: number;
  /** {@link IOAPIC_PINS} entries. */
  redirections: IoapicRedirection[];
}

/** `struct kvm_irqchip`, by chip. */
export type IrqchipState =
  | { chip: "pic-master"; pic: PicState }
  | { chip: "pic-slave"; pic: PicState }
  | { chip: "ioapic"; ioapic: IoapicState };

/** `struct kvm_pit_channel_state`. */
export interface PitChannelState {
  /** The initial count, 1..65536 (a programmed 0 is stored as 65536). */
  count: number;
  latchedCount: number;
  countLatched: number;
  statusLatched: number;
  status: number;
  readState: number;
  writeState: number;
  writeLatch: number;
  rwMode: number;
  mode: number;
  bcd: number;
  gate: number;
  /** Host nanoseconds (ktime) when the count was loaded; signed. */
  countLoadTime: bigint;
}

/** `KVM_PIT_FLAGS_*` of `struct kvm_pit_state2`. */
export const KVM_PIT_FLAGS = { HPET_LEGACY: 1, SPEAKER_DATA_ON: 2 } as const;
/** `KVM_PIT_SPEAKER_DUMMY`: `struct kvm_pit_config` flag QEMU passes so port 0x61 reads work without a speaker. */
export const KVM_PIT_SPEAKER_DUMMY = 1;

/** `struct kvm_pit_state2`: three channels and the flags. */
export interface PitState {
  channels: [PitChannelState, PitChannelState, PitChannelState];
  flags: number;
}

/** One `struct kvm_irq_routing_entry`: a GSI to an irqchip pin, or to an MSI message. */
export type GsiRoute =
  | { gsi: number; type: "irqchip"; irqchip: IrqchipId; pin: number }
  | { gsi: number; type: "msi"; address: bigint; data: number; devid?: number };

/** `struct kvm_msi` for KVM_SIGNAL_MSI: a 64-bit address, 32-bit data, and a device id where the platform wants one. */
export interface MsiMessage {
  address: bigint;
  data: number;
  /** Sets KVM_MSI_VALID_DEVID (x86 refuses it). */
  devid?: number;
}

/** `KVM_CLOCK_*` flags of `struct kvm_clock_data`. */
export const KVM_CLOCK = { TSC_STABLE: 2, REALTIME: 4, HOST_TSC: 8 } as const;

/** `struct kvm_clock_data`: kvmclock nanoseconds; realtime/hostTsc when flags say so. */
export interface ClockData {
  clock: bigint;
  flags: number;
  realtime: bigint;
  hostTsc: bigint;
}

/** `struct kvm_irqfd`, with the eventfds given as the notifiers that own them. */
export interface KvmIrqfd {
  readonly gsi: number;
  readonly notifier: EventNotifier;
  /** With a resample notifier the GSI is level-triggered: asserted until the guest's EOI, which signals it. */
  readonly resample?: EventNotifier;
  /** Removes the irqfd of `notifier` and `gsi` instead of adding one. */
  readonly deassign?: boolean;
}

/** The result of KVM_IRQ_LINE_STATUS and KVM_SIGNAL_MSI: >0 delivered, 0 coalesced or masked, <0 not delivered. */
export type IrqStatus = number;

/**
 * The VM-level interrupt and timer ioctls. Every method validates its arguments, throws a
 * {@link KvmError} with the kernel's errno name, and a failed call changes nothing.
 */
export interface KvmInterrupts {
  /** KVM_CREATE_IRQCHIP: PICs, IOAPIC and a LAPIC per vCPU; EINVAL once a vCPU exists, EEXIST the second time. */
  createIrqchip(): void;
  getIrqchip(chip: IrqchipId): IrqchipState;
  setIrqchip(state: IrqchipState): void;
  /** KVM_CREATE_PIT2 (needs the irqchip). */
  createPit2(flags?: number): void;
  getPit2(): PitState;
  setPit2(state: PitState): void;
  /** KVM_IRQ_LINE_STATUS: drives the GSI's level, as a wire into the irqchip. */
  irqLine(gsi: number, level: boolean): IrqStatus;
  /** KVM_IRQFD: a signal of `notifier` injects `gsi` without leaving the kernel. */
  irqfd(request: KvmIrqfd): void;
  /** KVM_SET_GSI_ROUTING: replaces the whole table. */
  setGsiRouting(routes: readonly GsiRoute[]): void;
  signalMsi(message: MsiMessage): IrqStatus;
  getClock(): ClockData;
  /** KVM_SET_CLOCK: `clock`, and `realtime` when flags has KVM_CLOCK.REALTIME. */
  setClock(data: Pick<ClockData, "clock" | "flags"> & Partial<ClockData>): void;
  /** KVM_SET_IDENTITY_MAP_ADDR: the EPT identity-map page (Intel without unrestricted guest); before any vCPU. */
  setIdentityMapAddr(addr: bigint): void;
  /** KVM_SET_TSS_ADDR: three pages for the real-mode TSS (Intel without unrestricted guest). */
  setTssAddr(addr: bigint): void;
}

/**
 * Where QEMU's kvm_arch_init puts the EPT identity map and the TSS (4 pages just below a
 * 16 MiB BIOS at the top of 4 GiB), used when a caller chooses nothing.
 */
export const DEFAULT_IDENTITY_MAP_ADDR = 0xfeffc000n;
export const DEFAULT_TSS_ADDR = 0xfeffd000n;
/** The highest TSS address the kernel takes: its three pages must end at or below 4 GiB. */
export const MAX_TSS_ADDR = 0xffffd000n;
