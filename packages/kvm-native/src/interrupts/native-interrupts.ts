import {
  type ClockData,
  DEFAULT_IDENTITY_MAP_ADDR,
  DEFAULT_TSS_ADDR,
  type GsiRoute,
  type IrqchipId,
  type IrqchipState,
  type IrqStatus,
  KVM_CAP,
  KvmError,
  type KvmInterrupts,
  type KvmIrqfd,
  type MsiMessage,
  type PitState,
} from "@memtopo/kvm";
import type { EventNotifier } from "@memtopo/region-tree";
import { native } from "../errors.js";
import { clockArgs, decodeClock } from "./clock-codec.js";
import { FieldReader } from "./fields.js";
import { decodeIrqchip, encodeIrqchip, irqchipId } from "./irqchip-codec.js";
import type { NativeIrqLayout, NativeVmInterrupts } from "./layout.js";
import { decodePit, encodePit } from "./pit-codec.js";
import { encodeRoutes } from "./route-codec.js";

/**
 * {@link KvmInterrupts} on the addon's Vm: typed objects in, validated and encoded with
 * the kernel's offsets, one ioctl, typed objects out. It also remembers whether the caller
 * placed the TSS and identity map, so that {@link placeDefaults} puts QEMU's there
 * before the first vCPU otherwise.
 */
export class NativeInterrupts implements KvmInterrupts {
  readonly #vm: NativeVmInterrupts & { checkExtension(cap: number): number };
  readonly #layout: NativeIrqLayout;
  #tssPlaced = false;
  #identityMapPlaced = false;

  constructor(vm: NativeVmInterrupts & { checkExtension(cap: number): number }, layout: NativeIrqLayout) {
    this.#vm = vm;
    this.#layout = layout;
  }

  createIrqchip(): void {
    native("KVM_CREATE_IRQCHIP", () => this.#vm.createIrqchip());
  }

  getIrqchip(chip: IrqchipId): IrqchipState {
    const id = irqchipId(chip, "KVM_GET_IRQCHIP");
    return decodeIrqchip(
      chip,
      native("KVM_GET_IRQCHIP", () => this.#vm.getIrqchip(id)),
      this.#layout,
    );
  }

  setIrqchip(state: IrqchipState): void {
    const { chipId, bytes } = encodeIrqchip(state, this.#layout, "KVM_SET_IRQCHIP");
    native("KVM_SET_IRQCHIP", () => this.#vm.setIrqchip(chipId, bytes));
  }

  createPit2(flags = 0): void {
    const f = new FieldReader("KVM_CREATE_PIT2").uint(flags, 32, "flags");
    native("KVM_CREATE_PIT2", () => this.#vm.createPit2(f));
  }

  getPit2(): PitState {
    return decodePit(
      native("KVM_GET_PIT2", () => this.#vm.getPit2()),
      this.#layout,
    );
  }

  setPit2(state: PitState): void {
    const bytes = encodePit(state, this.#layout, "KVM_SET_PIT2");
    native("KVM_SET_PIT2", () => this.#vm.setPit2(bytes));
  }

  irqLine(gsi: number, level: boolean): IrqStatus {
    if (typeof level !== "boolean") throw new KvmError("EINVAL", "KVM_IRQ_LINE_STATUS", "level must be a boolean");
    return native("KVM_IRQ_LINE_STATUS", () => this.#vm.irqLine(gsi, level ? 1 : 0));
  }

  irqfd(request: KvmIrqfd): void {
    const operation = "KVM_IRQFD";
    const r = new FieldReader(operation);
    const q = r.object(request, "request");
    const gsi = r.uint(q.gsi, 32, "request.gsi");
    const fd = eventfdOf(q.notifier, "request.notifier", operation);
    const deassign = q.deassign === undefined ? false : q.deassign;
    if (typeof deassign !== "boolean") r.fail("request.deassign", "must be a boolean");
    const c = this.#layout.constants;
    let flags = deassign ? c.IRQFD_FLAG_DEASSIGN : 0;
    let resamplefd = 0;
    if (q.resample !== undefined && !deassign) {
      resamplefd = eventfdOf(q.resample, "request.resample", operation);
      flags |= c.IRQFD_FLAG_RESAMPLE;
    }
    native(operation, () => this.#vm.irqfd(fd, gsi, flags, resamplefd));
  }

  setGsiRouting(routes: readonly GsiRoute[]): void {
    const bytes = encodeRoutes(routes, this.#layout, "KVM_SET_GSI_ROUTING");
    native("KVM_SET_GSI_ROUTING", () => this.#vm.setGsiRouting(bytes));
  }

  signalMsi(message: MsiMessage): IrqStatus {
    const r = new FieldReader("KVM_SIGNAL_MSI");
    const m = r.object(message, "message");
    const address = r.big(m.address, 64, "message.address");
    const data = r.uint(m.data, 32, "message.data");
    const devid = m.devid === undefined ? undefined : r.uint(m.devid, 32, "message.devid");
    const flags = devid === undefined ? 0 : this.#layout.constants.MSI_VALID_DEVID;
    return native("KVM_SIGNAL_MSI", () => this.#vm.signalMsi(address, data, flags, devid ?? 0));
  }

  getClock(): ClockData {
    return decodeClock(
      native("KVM_GET_CLOCK", () => this.#vm.getClock()),
      this.#layout,
    );
  }

  setClock(data: Pick<ClockData, "clock" | "flags"> & Partial<ClockData>): void {
    const [clock, flags, realtime, hostTsc] = clockArgs(data, "KVM_SET_CLOCK");
    native("KVM_SET_CLOCK", () => this.#vm.setClock(clock, flags, realtime, hostTsc));
  }

  setIdentityMapAddr(addr: bigint): void {
    native("KVM_SET_IDENTITY_MAP_ADDR", () => this.#vm.setIdentityMapAddr(addr));
    this.#identityMapPlaced = true;
  }

  setTssAddr(addr: bigint): void {
    native("KVM_SET_TSS_ADDR", () => this.#vm.setTssAddr(addr));
    this.#tssPlaced = true;
  }

  /**
   * Before the first vCPU: what QEMU's kvm_arch_init does when the caller placed nothing,
   * the identity map at 0xfeffc000 (where the kernel has the call) and the TSS one page up.
   */
  placeDefaults(): void {
    if (!this.#identityMapPlaced && this.#vm.checkExtension(KVM_CAP.SET_IDENTITY_MAP_ADDR) > 0) {
      this.setIdentityMapAddr(DEFAULT_IDENTITY_MAP_ADDR);
    }
    if (!this.#tssPlaced) this.setTssAddr(DEFAULT_TSS_ADDR);
  }
}

function eventfdOf(notifier: unknown, path: string, operation: string): number {
  const fd = (notifier as Partial<EventNotifier> | null | undefined)?.fd;
  if (typeof fd !== "number") {
    throw new KvmError("EBADF", operation, `${path} has no eventfd (use vm.createEventNotifier())`);
  }
  return fd;
}
