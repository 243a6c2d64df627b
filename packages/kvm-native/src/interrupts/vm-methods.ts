import {
  type ClockData,
  type GsiRoute,
  type IrqchipId,
  type IrqchipState,
  type IrqStatus,
  type KvmCapabilities,
  type KvmInterrupts,
  type KvmIrqfd,
  type MsiMessage,
  type PitState,
  readCapabilities,
} from "@memtopo/kvm";
import type { NativeInterrupts } from "./native-interrupts.js";

/**
 * The interrupt half of NativeKvm's {@link KvmInterrupts} surface and its capabilities,
 * forwarded to one {@link NativeInterrupts}, so that the VM class keeps the memory half.
 */
export abstract class NativeVmMethods implements KvmInterrupts {
  protected readonly interrupts: NativeInterrupts;
  #capabilities: KvmCapabilities | undefined;

  constructor(interrupts: NativeInterrupts) {
    this.interrupts = interrupts;
  }

  abstract checkExtension(cap: number): number;

  /** What the VM offers (KVM_CHECK_EXTENSION), read on first use. */
  capabilities(): KvmCapabilities {
    this.#capabilities ??= readCapabilities(this);
    return this.#capabilities;
  }

  createIrqchip(): void {
    this.interrupts.createIrqchip();
  }
  getIrqchip(chip: IrqchipId): IrqchipState {
    return this.interrupts.getIrqchip(chip);
  }
  setIrqchip(state: IrqchipState): void {
    this.interrupts.setIrqchip(state);
  }
  createPit2(flags?: number): void {
    this.interrupts.createPit2(flags);
  }
  getPit2(): PitState {
    return this.interrupts.getPit2();
  }
  setPit2(state: PitState): void {
    this.interrupts.setPit2(state);
  }
  irqLine(gsi: number, level: boolean): IrqStatus {
    return this.interrupts.irqLine(gsi, level);
  }
  irqfd(request: KvmIrqfd): void {
    this.interrupts.irqfd(request);
  }
  setGsiRouting(routes: readonly GsiRoute[]): void {
    this.interrupts.setGsiRouting(routes);
  }
  signalMsi(message: MsiMessage): IrqStatus {
    return this.interrupts.signalMsi(message);
  }
  getClock(): ClockData {
    return this.interrupts.getClock();
  }
  setClock(data: Pick<ClockData, "clock" | "flags"> & Partial<ClockData>): void {
    this.interrupts.setClock(data);
  }
  /** Before any vCPU; without a call, QEMU's 0xfeffc000 is used where the kernel has the ioctl. */
  setIdentityMapAddr(addr: bigint): void {
    this.interrupts.setIdentityMapAddr(addr);
  }
  /** Without a call before the first vCPU, QEMU's 0xfeffd000 is used. */
  setTssAddr(addr: bigint): void {
    this.interrupts.setTssAddr(addr);
  }
}
