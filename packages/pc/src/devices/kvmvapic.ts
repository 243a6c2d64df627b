import { MemoryRegion } from "@memtopo/region-tree";
import type { AddressSpace, MemorySystem } from "memtopo";

/** The vapic's hypercall port and the fw_cfg file its option ROM is handed over in. */
export const VAPIC_IO_PORT = 0x7en;
export const VAPIC_ROM_FILE = "genroms/kvmvapic.bin";
/** Option ROMs are sized and placed in 512-byte blocks. */
const ROM_BLOCK_SIZE = 512n;
const PAGE_SIZE = 0x1000n;
/** Above PAM and SMRAM: the ROM's pages stay RAM whatever the chipset maps there. */
const VAPIC_ROM_PRIORITY = 1000;
/** `mov $1, %eax; nop; outl %eax, $0x7e`, the ROM's IRQ poll without an in-kernel APIC ... */
const OUTL_POLL = [0xb8, 0x01, 0x00, 0x00, 0x00, 0x90, 0xe7, 0x7e];
/** ... which becomes `vmcall` when the APIC is in the kernel (KVM fixes vmcall up for AMD itself). */
const VMCALL = [0x0f, 0x01, 0xc1];

/** Where the vCPU is when it writes the port: the code segment's base and RIP after the OUT. */
export interface VapicCpuState {
  readonly csBase: bigint;
  readonly rip: bigint;
}

/**
 * QEMU's kvmvapic (hw/i386/kvmvapic.c) as far as firmware drives it: the option ROM's init
 * code writes, as a 16-bit value to port 0x7e, where its state block lies in the ROM; the
 * device then maps the ROM's pages writable above everything else ("kvmvapic-rom", an alias
 * of the RAM at that address, priority 1000), and patches the ROM's IRQ polls into
 * hypercalls. Activation by the guest OS's TPR accesses (8-bit writes) and TPR access
 * reporting are not modelled: no firmware reaches them.
 */
export class KvmVapic {
  readonly io: MemoryRegion;
  readonly #host: MemorySystem;
  #romStatePaddr: bigint | null = null;
  #rom: MemoryRegion | null = null;
  #romSize = 0n;

  constructor(
    host: MemorySystem,
    private readonly machine: {
      readonly systemMemory: MemoryRegion;
      /** The RAM at guest address 0 (QEMU takes the region memory_region_find gives for address 0). */
      readonly ram: MemoryRegion;
      readonly memory: AddressSpace;
      readonly cpuState: () => VapicCpuState | null;
    },
  ) {
    this.#host = host;
    this.io = new MemoryRegion(host, {
      kind: "io",
      name: "kvmvapic",
      size: 2n,
      ops: {
        endianness: "little",
        read: (_offset, size) => (1n << BigInt(8 * size)) - 1n,
        write: (_offset, value, size) => {
          if (size === 2) this.#romInitialized(value);
        },
      },
    });
  }

  /** Where the ROM's state block is, once its init code reported it. */
  get romStatePaddr(): bigint | null {
    return this.#romStatePaddr;
  }

  #romInitialized(offset: bigint): void {
    if (this.#romStatePaddr === null) {
      const cpu = this.machine.cpuState();
      if (cpu === null) return;
      this.#romStatePaddr = ((cpu.csBase + cpu.rip) & ~(ROM_BLOCK_SIZE - 1n)) + offset;
    }
    if (!this.#mapRomWritable()) {
      this.#romStatePaddr = null;
      return;
    }
    this.#patchHypercalls();
  }

  /** vapic_map_rom_writable: the ROM's size is its header's byte 2 (in blocks), rounded out to pages. */
  #mapRomWritable(): boolean {
    let romPaddr = this.#romStatePaddr! & ~(ROM_BLOCK_SIZE - 1n);
    const ram = this.machine.ram;
    if (romPaddr + 2n >= ram.size) return false;
    const blocks = ram.ramBlock!.bytesAt(romPaddr + 2n, 1)[0]!;
    if (blocks === 0) return false;
    let romSize = BigInt(blocks) * ROM_BLOCK_SIZE;
    romSize += romPaddr & (PAGE_SIZE - 1n);
    romPaddr &= ~(PAGE_SIZE - 1n);
    romSize = (romSize + PAGE_SIZE - 1n) & ~(PAGE_SIZE - 1n);
    const system = this.machine.systemMemory;
    if (this.#rom !== null) system.delSubregion(this.#rom);
    this.#rom = new MemoryRegion(this.#host, {
      kind: "alias",
      name: "kvmvapic-rom",
      target: ram,
      offset: romPaddr,
      size: romSize,
    });
    system.addSubregionOverlap(romPaddr, this.#rom, VAPIC_ROM_PRIORITY);
    this.#romSize = BigInt(blocks) * ROM_BLOCK_SIZE;
    return true;
  }

  /** patch_hypercalls with the in-kernel irqchip: each `nop; outl` poll becomes `vmcall`. */
  #patchHypercalls(): void {
    const romPaddr = this.#romStatePaddr! & ~(ROM_BLOCK_SIZE - 1n);
    const rom = new Uint8Array(Number(this.#romSize));
    this.machine.memory.read(romPaddr, rom);
    for (let pos = 0; pos < rom.length - OUTL_POLL.length; pos++) {
      if (OUTL_POLL.every((b, i) => rom[pos + i] === b)) {
        this.machine.memory.write(romPaddr + BigInt(pos + 5), Uint8Array.from(VMCALL));
      }
    }
  }
}
