import type { KvmCoalescedWrite } from "@memtopo/kvm";
import { kernelError } from "./errors.js";

/** `NR_IOBUS_DEVS`: devices one I/O bus holds besides its ioeventfds. */
const NR_IOBUS_DEVS = 1000;

/** A live coalesced zone as the kernel holds it. */
export interface MockCoalescedZone {
  readonly addr: bigint;
  readonly size: number;
  readonly pio: boolean;
}

/**
 * The kernel's coalesced MMIO/PIO zones and the ring they fill
 * (`virt/kvm/coalesced_mmio.c`). The ring is one page: `(4096 - 8) / 24` = 170 entries, of
 * which one always stays free, so 169 writes can wait; a write that finds it full exits.
 */
export class CoalescedZones {
  #zones: MockCoalescedZone[] = [];
  #ring: KvmCoalescedWrite[] = [];
  readonly #ringCapacity: number;

  constructor(hostPageSize: number) {
    this.#ringCapacity = Math.floor((hostPageSize - 8) / 24) - 1;
  }

  list(): readonly MockCoalescedZone[] {
    return this.#zones;
  }

  /** `kvm_vm_ioctl_register_coalesced_mmio`: no overlap check; the bus is the limit. */
  register(zone: MockCoalescedZone): void {
    if (this.#zones.filter((z) => z.pio === zone.pio).length >= NR_IOBUS_DEVS) {
      throw kernelError("ENOSPC", "KVM_REGISTER_COALESCED_MMIO", `the ${zone.pio ? "PIO" : "MMIO"} bus is full`);
    }
    this.#zones = [...this.#zones, zone];
  }

  /**
   * `kvm_vm_ioctl_unregister_coalesced_mmio`: every zone of the bus that holds the whole
   * given range goes (a bigger range removes nothing); it never fails.
   */
  unregister(zone: MockCoalescedZone): void {
    const end = zone.addr + BigInt(zone.size);
    this.#zones = this.#zones.filter(
      (z) => !(z.pio === zone.pio && zone.addr >= z.addr && end <= z.addr + BigInt(z.size)),
    );
  }

  /** `coalesced_mmio_write`: the access lies in a zone of its bus and the ring has room. */
  tryHold(pio: boolean, addr: bigint, data: Uint8Array): boolean {
    if (data.length > 8 || this.#ring.length >= this.#ringCapacity) return false;
    const end = addr + BigInt(data.length);
    const zone = this.#zones.find((z) => z.pio === pio && addr >= z.addr && end <= z.addr + BigInt(z.size));
    if (zone === undefined) return false;
    this.#ring = [...this.#ring, Object.freeze({ physAddr: addr, data: data.slice(), pio })];
    return true;
  }

  /** Empties the ring, oldest write first. */
  drain(): KvmCoalescedWrite[] {
    const out = this.#ring;
    this.#ring = [];
    return out;
  }
}
