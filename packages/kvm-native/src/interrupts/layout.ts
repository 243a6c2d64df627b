/** Offsets and constants of the interrupt structs (`layout.irq`), computed by the addon with offsetof. */
export interface NativeIrqLayout {
  readonly pic: Readonly<Record<PicField, number>>;
  readonly ioapic: Readonly<Record<"baseAddress" | "ioregsel" | "id" | "irr" | "redirtbl" | "pins", number>>;
  /** Bytes of `struct kvm_irqchip`'s chip union (what get/setIrqchip move). */
  readonly chipSize: number;
  readonly pitChannel: Readonly<Record<PitChannelField | "size", number>>;
  readonly pit: Readonly<Record<"channels" | "flags" | "size", number>>;
  readonly route: Readonly<
    Record<
      "gsi" | "type" | "flags" | "irqchip" | "pin" | "msiAddressLo" | "msiAddressHi" | "msiData" | "msiDevid" | "size",
      number
    >
  >;
  readonly clock: Readonly<Record<"clock" | "flags" | "realtime" | "hostTsc" | "size", number>>;
  readonly constants: Readonly<
    Record<
      | "IRQ_ROUTING_IRQCHIP"
      | "IRQ_ROUTING_MSI"
      | "MSI_VALID_DEVID"
      | "IRQFD_FLAG_DEASSIGN"
      | "IRQFD_FLAG_RESAMPLE"
      | "PIT_SPEAKER_DUMMY"
      | "IRQCHIP_PIC_MASTER"
      | "IRQCHIP_PIC_SLAVE"
      | "IRQCHIP_IOAPIC",
      number
    >
  >;
}

export type PicField =
  | "lastIrr"
  | "irr"
  | "imr"
  | "isr"
  | "priorityAdd"
  | "irqBase"
  | "readRegSelect"
  | "poll"
  | "specialMask"
  | "initState"
  | "autoEoi"
  | "rotateOnAutoEoi"
  | "specialFullyNestedMode"
  | "init4"
  | "elcr"
  | "elcrMask";

export type PitChannelField =
  | "count"
  | "latchedCount"
  | "countLatched"
  | "statusLatched"
  | "status"
  | "readState"
  | "writeState"
  | "writeLatch"
  | "rwMode"
  | "mode"
  | "bcd"
  | "gate"
  | "countLoadTime";

/** The interrupt methods of the addon's Vm (native/irq.cc); struct payloads are raw bytes in `layout.irq`. */
export interface NativeVmInterrupts {
  createIrqchip(): void;
  getIrqchip(chipId: number): Uint8Array;
  setIrqchip(chipId: number, state: Uint8Array): void;
  createPit2(flags: number): void;
  getPit2(): Uint8Array;
  setPit2(state: Uint8Array): void;
  irqLine(gsi: number, level: number): number;
  irqfd(fd: number, gsi: number, flags: number, resamplefd: number): void;
  setGsiRouting(entries: Uint8Array): void;
  signalMsi(address: bigint, data: number, flags: number, devid: number): number;
  getClock(): Uint8Array;
  setClock(clock: bigint, flags: number, realtime: bigint, hostTsc: bigint): void;
  setIdentityMapAddr(addr: bigint): void;
  setTssAddr(addr: bigint): void;
}
