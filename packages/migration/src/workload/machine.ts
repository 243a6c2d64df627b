import type { KvmVcpu } from "@memtopo/kvm";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import type { AddressSpace, MemorySystem } from "memtopo";
import type { DeviceStateModel } from "../device-state.js";
import { DIRTY_GUEST_HEX } from "./dirty-guest-bytes.js";

/** Guest RAM: 1 MiB at 0, of which the guest dirties [0x10000, 0x80000). */
export const WORKLOAD_RAM_SIZE = 0x10_0000n;
export const WORKLOAD_AREA = { start: 0x1_0000n, end: 0x8_0000n } as const;
/** Where the guest's code goes and where it keeps its pass count, checksum and pass limit. */
export const WORKLOAD_ENTRY = 0x1000;
export const WORKLOAD_PASSES_DONE = 0x500;
export const WORKLOAD_CHECKSUM = 0x504;
export const WORKLOAD_PASS_LIMIT = 0x508;
/** The PAM-like segment at 0xf0000 (64 KiB): the BIOS ROM shows through, or RAM does. */
export const WORKLOAD_PAM_START = 0xf_0000n;
/** A RAM BAR (VRAM-like) and the two places it moves between. */
export const WORKLOAD_BAR_SIZE = 0x4_0000n;
export const WORKLOAD_BAR_ADDRS = [0xe000_0000n, 0xd000_0000n] as const;

/** The machine the dirtying guest runs on: RAM, a BIOS ROM behind a PAM segment, a RAM BAR. */
export interface WorkloadMachine {
  readonly system: MemorySystem;
  readonly memory: AddressSpace;
  readonly ram: MemoryRegion;
  readonly bios: MemoryRegion;
  readonly vram: MemoryRegion;
  /** Whether the PAM segment shows RAM (true) or the BIOS (false). */
  readonly pamRam: boolean;
  setPam(ram: boolean): void;
  readonly barAddr: bigint;
  moveBar(addr: bigint): void;
  /** The board's part of migration: the PAM setting and the BAR's address (a TypeScript device model). */
  readonly chipset: DeviceStateModel;
}

/** Builds the workload machine into `system` in one commit, with the guest's code in RAM and its pass limit set. */
export function buildWorkloadMachine(system: MemorySystem, options: { passLimit?: number } = {}): WorkloadMachine {
  const region = (init: ConstructorParameters<typeof MemoryRegion>[1]) => new MemoryRegion(system, init);
  system.begin();
  try {
    const root = region({ kind: "container", name: "system", size: SIZE_2_64 });
    const ram = region({ kind: "ram", name: "pc.ram", size: WORKLOAD_RAM_SIZE });
    root.addSubregion(
      0n,
      region({ kind: "alias", name: "ram-below-4g", target: ram, offset: 0n, size: WORKLOAD_RAM_SIZE }),
    );
    const pci = region({ kind: "container", name: "pci", size: SIZE_2_64 });
    root.addSubregionOverlap(0n, pci, -1);
    const bios = region({ kind: "rom", name: "pc.bios", size: 0x1_0000n });
    bios.ramBlock!.bytes().fill(0xf4); // HLT everywhere: firmware the guest never calls
    pci.addSubregion(WORKLOAD_PAM_START, bios);
    const vram = region({ kind: "ram", name: "vga.vram", size: WORKLOAD_BAR_SIZE });
    pci.addSubregionOverlap(WORKLOAD_BAR_ADDRS[0], vram, 1);
    const pamPci = region({ kind: "alias", name: "pam-pci", target: pci, offset: WORKLOAD_PAM_START, size: 0x1_0000n });
    const pamRam = region({ kind: "alias", name: "pam-ram", target: ram, offset: WORKLOAD_PAM_START, size: 0x1_0000n });
    pamRam.setEnabled(false);
    root.addSubregionOverlap(WORKLOAD_PAM_START, pamPci, 1);
    root.addSubregionOverlap(WORKLOAD_PAM_START, pamRam, 1);
    const memory = system.createAddressSpace("memory", root);
    const bytes = ram.ramBlock!.bytes();
    bytes.set(Buffer.from(DIRTY_GUEST_HEX, "hex"), WORKLOAD_ENTRY);
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(WORKLOAD_PASS_LIMIT, options.passLimit ?? 0xffff_ffff, true);

    const setPam = (on: boolean) => {
      system.begin();
      try {
        pamRam.setEnabled(on);
        pamPci.setEnabled(!on);
      } finally {
        system.commit();
      }
    };
    const machine: WorkloadMachine = {
      system,
      memory,
      ram,
      bios,
      vram,
      get pamRam() {
        return pamRam.enabled;
      },
      setPam,
      get barAddr() {
        return vram.addr;
      },
      moveBar: (addr) => vram.setAddress(addr),
      chipset: {
        id: "workload/chipset",
        version: 1,
        save: () => ({ pamRam: pamRam.enabled, bar: vram.addr }),
        prepareLoad(state) {
          const s = state as { pamRam?: unknown; bar?: unknown } | null;
          if (typeof s?.pamRam !== "boolean" || !(WORKLOAD_BAR_ADDRS as readonly bigint[]).includes(s.bar as bigint)) {
            throw new Error("expected {pamRam: boolean, bar: one of the BAR's addresses}");
          }
          const { pamRam: on, bar } = s as { pamRam: boolean; bar: bigint };
          return () => {
            setPam(on);
            vram.setAddress(bar);
          };
        },
      },
    };
    return machine;
  } finally {
    system.commit();
  }
}

/** Puts a fresh vCPU in real mode at the guest's entry, every segment at base 0. */
export function enterWorkload(vcpu: KvmVcpu): void {
  const sregs = vcpu.getSregs();
  for (const name of ["cs", "ds", "es", "fs", "gs", "ss"] as const)
    sregs[name] = { ...sregs[name], selector: 0, base: 0n };
  sregs.cr0 &= ~1n;
  vcpu.setSregs(sregs);
  const regs = vcpu.getRegs();
  vcpu.setRegs({ ...regs, rip: BigInt(WORKLOAD_ENTRY), rsp: 0x8000n, rflags: 2n });
}

/** How a run of the workload ended. */
export interface WorkloadRun {
  readonly stop: "passes" | "checksum" | "intr";
  /** The last pass the guest reported (port 0xf0). */
  readonly pass: number;
  /** The guest's own checksum (port 0xf1), when it got there. */
  readonly checksum: number | null;
}

/** The VM's dirty-ring reaper (`KvmAttachment.dirtyRing`): reaps every vCPU's ring, then resets them. */
export interface DirtyRingReap {
  reap(): number;
}

/**
 * Runs the guest until it reported `passes` more passes, finished its checksum, or (with
 * `slices`) KVM_RUN returned that many times without an exit (a mock timeslice, a kick).
 * With the dirty ring on, pass the VM's reaper as `dirtyRing`: a KVM_EXIT_DIRTY_RING_FULL is
 * then reaped and reset and the guest run on (QEMU's `kvm_cpu_exec` calls `kvm_dirty_ring_reap`);
 * without one that exit stops the run with an error.
 */
export function runWorkload(
  vcpu: KvmVcpu,
  limits: { passes?: number; slices?: number; dirtyRing?: DirtyRingReap | null },
): WorkloadRun {
  let passes = 0;
  let slices = 0;
  let pass = -1;
  for (;;) {
    const exit = vcpu.run();
    if (exit.reason === "dirty-ring-full" && limits.dirtyRing) {
      // A full ring with nothing to reap would exit again at once, for ever.
      if (limits.dirtyRing.reap() > 0) continue;
      throw new Error("the workload guest's dirty ring is full, yet reaping found no entry");
    }
    if (exit.reason === "io" && exit.direction === "out" && exit.size === 4) {
      const value = new DataView(exit.data.buffer, exit.data.byteOffset, 4).getUint32(0, true);
      if (exit.port === 0xf1) return { stop: "checksum", pass, checksum: value };
      if (exit.port === 0xf0) {
        pass = value;
        if (++passes === limits.passes) return { stop: "passes", pass, checksum: null };
        continue;
      }
    }
    if (exit.reason === "intr") {
      if (++slices === limits.slices) return { stop: "intr", pass, checksum: null };
      continue;
    }
    throw new Error(
      `the workload guest stopped unexpectedly: ${exit.reason}${exit.reason === "io" ? ` port 0x${exit.port.toString(16)}` : ""}`,
    );
  }
}

/** The checksum the guest computes, computed by the host over a RAM block's bytes (for cross-checks). */
export function workloadChecksum(ram: MemoryRegion): number {
  const bytes = ram.ramBlock!.bytesAt(WORKLOAD_AREA.start, Number(WORKLOAD_AREA.end - WORKLOAD_AREA.start));
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  let sum = 0;
  for (let i = 0; i < words.length; i++) sum = (sum + words[i]!) >>> 0;
  return sum;
}
