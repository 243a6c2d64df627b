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
 * (`virt/kvm/coalesced_mmio.c`). The ring is one page of `(4096 - 8) / 24` = 170 entries
 * between the indexes `first` (userspace's) and `last` (the kernel's); a write that finds
 * no room exits as usual. With the fixed room check one entry always stays free (169
 * writes wait); with the old unsigned one, only 85 while `first` is below 85.
 */
export class CoalescedZones {
  #zones: MockCoalescedZone[] = [];
  /** The ring's entries by index, and its two indexes. */
  readonly #ring: (KvmCoalescedWrite | undefined)[];
  #first = 0;
  #last = 0;
  readonly #moduloBug: boolean;

  constructor(hostPageSize: number, moduloBug: boolean) {
    this.#ring = new Array<KvmCoalescedWrite | undefined>(Math.floor((hostPageSize - 8) / 24));
    this.#moduloBug = moduloBug;
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
    if (data.length > 8 || !this.#hasRoom()) return false;
    const end = addr + BigInt(data.length);
    const zone = this.#zones.find((z) => z.pio === pio && addr >= z.addr && end <= z.addr + BigInt(z.size));
    if (zone === undefined) return false;
    this.#ring[this.#last] = Object.freeze({ physAddr: addr, data: data.slice(), pio });
    this.#last = (this.#last + 1) % this.#ring.length;
    return true;
  }

  /** `coalesced_mmio_has_room`. */
  #hasRoom(): boolean {
    const max = this.#ring.length;
    const avail = this.#moduloBug
      ? ((this.#first - this.#last - 1) >>> 0) % max
      : (this.#first - this.#last - 1 + max) % max;
    return avail !== 0;
  }

  /** Empties the ring, oldest write first, moving `first` up to `last` as userspace does. */
  drain(): KvmCoalescedWrite[] {
    const out: KvmCoalescedWrite[] = [];
    for (; this.#first !== this.#last; this.#first = (this.#first + 1) % this.#ring.length) {
      out.push(this.#ring[this.#first]!);
      this.#ring[this.#first] = undefined;
    }
    return out;
  }
}
