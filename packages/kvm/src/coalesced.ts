import type { MemoryListener, MemoryRegionSection } from "@memtopo/listener-bus";
import { KVM_CAP, type KvmBackend } from "./backend.js";

/**
 * `kvm_coalesce_mmio_region` / `kvm_uncoalesce_mmio_region` (and the PIO pair): a zone of
 * the part of a coalesced range a section shows, the size cut to 32 bits as the struct
 * holds it. QEMU ignores what the ioctl returns: a refused zone only means those writes
 * exit as usual, so a refusal is not an error here either.
 */
export function coalescedZoneCall(backend: KvmBackend, add: boolean, addr: bigint, len: bigint, pio: boolean): void {
  const zone = { addr, size: Number(BigInt.asUintN(32, len)), pio };
  try {
    if (add) backend.registerCoalescedMmio?.(zone);
    else backend.unregisterCoalescedMmio?.(zone);
  } catch {
    // Ignored, as QEMU's `(void)kvm_vm_ioctl(...)` does.
  }
}

/** Whether the kernel coalesces MMIO (`s->coalesced_mmio`) and the backend can ask it to. */
export function coalescesMmio(backend: KvmBackend): boolean {
  return backend.registerCoalescedMmio !== undefined && backend.checkExtension(KVM_CAP.COALESCED_MMIO) > 0;
}

/**
 * QEMU 7.2's `kvm_coalesced_pio_listener` on `I/O` (priority 0): coalesced PIO ranges become
 * PIO zones, when the kernel has both KVM_CAP_COALESCED_MMIO and KVM_CAP_COALESCED_PIO.
 */
export class KvmCoalescedPioListener implements MemoryListener {
  readonly name = "kvm-coalesced-pio";
  readonly priority = 0;
  readonly #backend: KvmBackend;
  readonly #enabled: boolean;

  constructor(backend: KvmBackend) {
    this.#backend = backend;
    this.#enabled = coalescesMmio(backend) && backend.checkExtension(KVM_CAP.COALESCED_PIO) > 0;
  }

  coalescedIoAdd(_section: MemoryRegionSection, addr: bigint, len: bigint): void {
    if (this.#enabled) coalescedZoneCall(this.#backend, true, addr, len, true);
  }

  coalescedIoDel(_section: MemoryRegionSection, addr: bigint, len: bigint): void {
    if (this.#enabled) coalescedZoneCall(this.#backend, false, addr, len, true);
  }
}
