import {
  type ClockData,
  type GsiRoute,
  type IrqchipId,
  type IrqchipState,
  type IrqStatus,
  KVM_CLOCK,
  KVM_MAX_IRQ_ROUTES,
  type KvmIrqfd,
  MAX_TSS_ADDR,
  type MsiMessage,
  PIC_PINS,
  type PitState,
} from "@memtopo/kvm";
import type { EventNotifier } from "@memtopo/region-tree";
import { kernelError, MockKvmUsageError } from "../errors.js";
import { u32, u64 } from "../validate.js";
import { Ioapic } from "./ioapic.js";
import { Pic } from "./pic.js";
import { Pit } from "./pit.js";
import { checkRouting, defaultRouting } from "./routing.js";

/** KVM's irq source ids: KVM_IRQ_LINE and plain irqfds, resampling irqfds, the PIT. */
const USERSPACE_SOURCE = 0;
const RESAMPLE_SOURCE = 1;
const PIT_SOURCE = 2;

/** `KVM_CLOCK_VALID_FLAGS`: what KVM_SET_CLOCK accepts (the result of KVM_GET_CLOCK passed back). */
const CLOCK_VALID_FLAGS = KVM_CLOCK.TSC_STABLE | KVM_CLOCK.REALTIME | KVM_CLOCK.HOST_TSC;

/** A live irqfd, as the mock lists it. */
export interface MockIrqfd {
  readonly gsi: number;
  readonly notifier: EventNotifier;
  readonly resample: EventNotifier | null;
}

/** What the interrupt model needs from its VM. */
export interface InterruptHost {
  /** vCPUs created so far (KVM's created_vcpus: never decreases). */
  createdVcpus(): number;
  /** Whether the notifier is one of this VM's eventfds. */
  ownsNotifier(notifier: EventNotifier): boolean;
  /** The VM's virtual clock, in nanoseconds. */
  now(): number;
  /** APIC ids of the vCPUs. */
  apicIds(): readonly number[];
}

function chipIndex(chip: IrqchipId): 0 | 1 | 2 {
  if (chip === "pic-master") return 0;
  if (chip === "pic-slave") return 1;
  if (chip === "ioapic") return 2;
  throw kernelError("EINVAL", "KVM_GET_IRQCHIP", `chip ${JSON.stringify(chip)} is not pic-master, pic-slave or ioapic`);
}

/**
 * The VM-level interrupt ioctls with the kernel's ordering rules and errnos (KVM_CREATE_IRQCHIP
 * before any vCPU and once; irqfds, GSI routing and MSIs need the irqchip), and an
 * in-kernel PIC, IOAPIC and PIT that the mock vCPU takes interrupts from. Every failed call
 * changes nothing.
 */
export class MockInterrupts {
  readonly #host: InterruptHost;
  #chip: { readonly pic: Pic; readonly ioapic: Ioapic } | null = null;
  #pit: Pit | null = null;
  #routes: readonly GsiRoute[] = [];
  #irqfds: MockIrqfd[] = [];
  #clockOffset = 0;
  #identityMapAddr: bigint | null = null;
  #tssAddr: bigint | null = null;

  constructor(host: InterruptHost) {
    this.#host = host;
  }

  get hasIrqchip(): boolean {
    return this.#chip !== null;
  }

  /** The routing table in force (the default one after KVM_CREATE_IRQCHIP). */
  get routes(): readonly GsiRoute[] {
    return this.#routes;
  }

  get irqfds(): readonly MockIrqfd[] {
    return this.#irqfds;
  }

  get identityMapAddr(): bigint | null {
    return this.#identityMapAddr;
  }

  get tssAddr(): bigint | null {
    return this.#tssAddr;
  }

  createIrqchip(): void {
    if (this.#chip !== null)
      throw kernelError("EEXIST", "KVM_CREATE_IRQCHIP", "the VM already has an in-kernel irqchip");
    if (this.#host.createdVcpus() > 0) {
      throw kernelError("EINVAL", "KVM_CREATE_IRQCHIP", "vCPUs exist already: the irqchip must come first");
    }
    this.#chip = { pic: new Pic((pin) => this.#acked(pin)), ioapic: new Ioapic() };
    this.#routes = checkRouting(defaultRouting());
  }

  getIrqchip(chip: IrqchipId): IrqchipState {
    const c = this.#requireChip("KVM_GET_IRQCHIP");
    const index = chipIndex(chip);
    if (index === 2) return { chip: "ioapic", ioapic: c.ioapic.get() };
    return index === 0 ? { chip: "pic-master", pic: c.pic.get(0) } : { chip: "pic-slave", pic: c.pic.get(1) };
  }

  setIrqchip(state: IrqchipState): void {
    const c = this.#requireChip("KVM_SET_IRQCHIP");
    if (typeof state !== "object" || state === null) throw new MockKvmUsageError("expected an object", "state");
    const index = chipIndex(state.chip);
    if (index === 2) {
      if (state.chip === "ioapic") c.ioapic.set(state.ioapic);
    } else if (state.chip !== "ioapic") c.pic.set(index, state.pic);
  }

  createPit2(flags = 0): void {
    u32(flags, "flags");
    // No irqchip needed (as on /dev/kvm): without one the PIT's ports work and its timer raises nothing.
    if (this.#pit !== null) throw kernelError("EEXIST", "KVM_CREATE_PIT2", "the VM already has a PIT");
    this.#pit = new Pit(() => this.#host.now());
  }

  getPit2(): PitState {
    return this.#requirePit("KVM_GET_PIT2").get();
  }

  setPit2(state: PitState): void {
    const pit = this.#requirePit("KVM_SET_PIT2");
    if (typeof state !== "object" || state === null || !Array.isArray(state.channels) || state.channels.length !== 3) {
      throw new MockKvmUsageError("expected three channels", "state.channels");
    }
    pit.set(state);
  }

  irqLine(gsi: number, level: boolean): IrqStatus {
    const g = u32(gsi, "gsi");
    if (typeof level !== "boolean") throw new MockKvmUsageError("expected a boolean", "level");
    this.#requireChip("KVM_IRQ_LINE_STATUS", "ENXIO");
    return this.#setGsi(g, USERSPACE_SOURCE, level);
  }

  irqfd(request: KvmIrqfd): void {
    if (typeof request !== "object" || request === null) throw new MockKvmUsageError("expected an object", "request");
    const gsi = u32(request.gsi, "request.gsi");
    const notifier = request.notifier;
    if (!this.#host.ownsNotifier(notifier)) throw kernelError("EBADF", "KVM_IRQFD", "fd is not an eventfd of this VM");
    if (request.deassign === true) {
      if (request.resample !== undefined) {
        throw kernelError("EINVAL", "KVM_IRQFD", "KVM_IRQFD_FLAG_RESAMPLE together with KVM_IRQFD_FLAG_DEASSIGN");
      }
      const gone = this.#irqfds.filter((f) => f.notifier === notifier && f.gsi === gsi);
      this.#irqfds = this.#irqfds.filter((f) => !gone.includes(f));
      // The last resampler of a GSI leaves it deasserted.
      for (const f of gone) {
        if (f.resample !== null && !this.#irqfds.some((o) => o.resample !== null && o.gsi === gsi)) {
          this.#setGsi(gsi, RESAMPLE_SOURCE, false);
        }
      }
      return;
    }
    if (this.#chip === null) throw kernelError("EINVAL", "KVM_IRQFD", "irqfds need the in-kernel irqchip");
    const resample = request.resample ?? null;
    if (resample !== null && !this.#host.ownsNotifier(resample)) {
      throw kernelError("EBADF", "KVM_IRQFD", "resamplefd is not an eventfd of this VM");
    }
    if (this.#irqfds.some((f) => f.notifier === notifier)) {
      throw kernelError("EBUSY", "KVM_IRQFD", "the eventfd already injects an interrupt");
    }
    this.#irqfds = [...this.#irqfds, Object.freeze({ gsi, notifier, resample })];
  }

  setGsiRouting(routes: readonly GsiRoute[]): void {
    this.#requireChip("KVM_SET_GSI_ROUTING", "EINVAL");
    this.#routes = checkRouting(routes);
  }

  signalMsi(message: MsiMessage): IrqStatus {
    if (typeof message !== "object" || message === null) throw new MockKvmUsageError("expected an object", "message");
    const address = u64(message.address, "message.address");
    u32(message.data, "message.data");
    if (message.devid !== undefined) u32(message.devid, "message.devid");
    this.#requireChip("KVM_SIGNAL_MSI", "EINVAL");
    if (message.devid !== undefined) {
      throw kernelError("EINVAL", "KVM_SIGNAL_MSI", "KVM_MSI_VALID_DEVID: x86 has no MSI device ids");
    }
    return this.#deliverMsi(address);
  }

  getClock(): ClockData {
    const now = this.#host.now();
    return {
      clock: BigInt(Math.floor(now + this.#clockOffset)),
      flags: KVM_CLOCK.TSC_STABLE | KVM_CLOCK.REALTIME | KVM_CLOCK.HOST_TSC,
      realtime: BigInt(Date.now()) * 1_000_000n,
      hostTsc: BigInt(Math.floor(now)),
    };
  }

  setClock(data: Pick<ClockData, "clock" | "flags"> & Partial<ClockData>): void {
    if (typeof data !== "object" || data === null) throw new MockKvmUsageError("expected an object", "data");
    const clock = u64(data.clock, "data.clock");
    const flags = u32(data.flags, "data.flags");
    if ((flags & ~CLOCK_VALID_FLAGS) !== 0) {
      throw kernelError(
        "EINVAL",
        "KVM_SET_CLOCK",
        `flags 0x${flags.toString(16)} has bits outside KVM_CLOCK_VALID_FLAGS`,
      );
    }
    let target = Number(clock);
    if ((flags & KVM_CLOCK.REALTIME) !== 0) {
      // The clock went on while the VM was away: add the realtime that passed since `realtime`.
      const realtime = u64(data.realtime, "data.realtime");
      const passed = BigInt(Date.now()) * 1_000_000n - realtime;
      if (passed > 0n) target += Number(passed);
    }
    this.#clockOffset = target - this.#host.now();
  }

  setIdentityMapAddr(addr: bigint): void {
    const a = u64(addr, "addr");
    if (this.#host.createdVcpus() > 0) {
      throw kernelError("EINVAL", "KVM_SET_IDENTITY_MAP_ADDR", "vCPUs exist already: the identity map must come first");
    }
    this.#identityMapAddr = a;
  }

  setTssAddr(addr: bigint): void {
    const a = u64(addr, "addr");
    if (a > MAX_TSS_ADDR) {
      throw kernelError(
        "EINVAL",
        "KVM_SET_TSS_ADDR",
        `0x${a.toString(16)}: the TSS's three pages must end at or below 4 GiB`,
      );
    }
    this.#tssAddr = a;
  }

  // --- What the mock vCPU and the VM's eventfds use.

  /** Port I/O of the in-kernel PIC and PIT; undefined when neither claims the port. */
  readPort(port: number): number | undefined {
    if (this.#chip !== null && Pic.claims(port)) return this.#chip.pic.read(port);
    if (this.#pit !== null && Pit.claims(port)) return this.#pit.read(port);
    return undefined;
  }

  writePort(port: number, value: number): boolean {
    if (this.#chip !== null && Pic.claims(port)) {
      this.#chip.pic.write(port, value);
      return true;
    }
    if (this.#pit !== null && Pit.claims(port)) {
      this.#pit.write(port, value);
      return true;
    }
    return false;
  }

  /**
   * Whether the PIC has an interrupt for `apicId`'s vCPU: only the BSP takes the PIC's
   * ExtINT, through LINT0 (which KVM leaves unmasked on the BSP at reset).
   */
  extIntPending(apicId: number): boolean {
    return apicId === 0 && this.#chip !== null && this.#chip.pic.output;
  }

  /** INTA: the vector the PIC hands the BSP. */
  acknowledgeExtInt(): number {
    return this.#chip!.pic.acknowledge();
  }

  /** Lets virtual time reach `now`: the PIT fires what expired. */
  advance(now: number): void {
    if (this.#pit?.expired(now) === true) {
      this.#setGsi(0, PIT_SOURCE, true);
      this.#setGsi(0, PIT_SOURCE, false);
    }
  }

  /** When the next timer interrupt is due (for a halted vCPU to sleep until), or null. */
  get nextDeadline(): number | null {
    return this.#pit?.deadline ?? null;
  }

  /** An eventfd was signalled: true when an irqfd consumed the signal and injected its GSI. */
  signalled(notifier: EventNotifier): boolean {
    const irqfd = this.#irqfds.find((f) => f.notifier === notifier);
    if (irqfd === undefined) return false;
    if (irqfd.resample !== null) this.#setGsi(irqfd.gsi, RESAMPLE_SOURCE, true);
    else {
      this.#setGsi(irqfd.gsi, USERSPACE_SOURCE, true);
      this.#setGsi(irqfd.gsi, USERSPACE_SOURCE, false);
    }
    return true;
  }

  #requireChip(operation: string, errno = "ENXIO"): { readonly pic: Pic; readonly ioapic: Ioapic } {
    if (this.#chip === null) throw kernelError(errno, operation, "the VM has no in-kernel irqchip");
    return this.#chip;
  }

  #requirePit(operation: string): Pit {
    if (this.#pit === null) throw kernelError("ENXIO", operation, "the VM has no PIT (KVM_CREATE_PIT2)");
    return this.#pit;
  }

  /** kvm_set_irq: every route of the GSI; the sum of the non-negative answers, -1 when all refused. */
  #setGsi(gsi: number, source: number, level: boolean): IrqStatus {
    const chip = this.#chip;
    if (chip === null || gsi >= KVM_MAX_IRQ_ROUTES) return -1;
    let status = -1;
    for (const route of this.#routes) {
      if (route.gsi !== gsi) continue;
      let r: number;
      if (route.type === "msi") r = level ? this.#deliverMsi(route.address) : -1;
      else if (route.irqchip === "ioapic") r = chip.ioapic.setIrq(route.pin, source, level);
      else r = chip.pic.setIrq(route.pin + (route.irqchip === "pic-slave" ? PIC_PINS : 0), source, level);
      if (r < 0) continue;
      status = r + (status < 0 ? 0 : status);
    }
    return status;
  }

  /**
   * An MSI to the destination APIC id in address bits 12-19: -1 when no vCPU has that id, 0
   * when one does (its LAPIC is software-disabled as after reset and takes no fixed interrupt).
   */
  #deliverMsi(address: bigint): IrqStatus {
    const dest = Number((address >> 12n) & 0xffn);
    return this.#host.apicIds().some((id) => id === dest || dest === 0xff) ? 0 : -1;
  }

  /** An EOI cleared PIC pin `pin` (0-15): resampling irqfds of the GSIs routed there deassert and notify. */
  #acked(pin: number): void {
    const chip = pin < PIC_PINS ? "pic-master" : "pic-slave";
    const gsis = this.#routes
      .filter((r) => r.type === "irqchip" && r.irqchip === chip && r.pin === pin % PIC_PINS)
      .map((r) => r.gsi);
    for (const gsi of gsis) {
      const resamplers = this.#irqfds.filter((f) => f.gsi === gsi && f.resample !== null);
      if (resamplers.length === 0) continue;
      this.#setGsi(gsi, RESAMPLE_SOURCE, false);
      for (const f of resamplers) f.resample!.signal();
    }
  }
}
