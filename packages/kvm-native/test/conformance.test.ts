import { describeKvmBackendConformance, type KvmBackendFactory, type KvmConformanceGuest } from "@memtopo/kvm/testing";
import type { EventNotifier } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { type EventFdNotifier, NativeKvm, type Segment, type Vcpu } from "../src/index.js";
import { guest, kvm } from "./helpers.js";

// The shared KvmBackend conformance suite of @memtopo/kvm/testing, on /dev/kvm, with
// guest hooks that run one real store or `out` per call.

/** The hooks' own memory: slot 16 at 0xfff0_0000 (the suite leaves 16-99 above that to them). */
const HOOK_SLOT = 16;
const HOOK_BASE = 0xfff0_0000n;
const HOOK_SIZE = 0x8000n;
const PML4 = 0x1000;
const PDPT = 0x2000;
const PD = 0x3000; // four page directories, 0x3000-0x6fff: 2 MiB pages over the first 4 GiB

const STORE_ENTRY: Record<number, number> = { 1: 0x00, 2: 0x10, 4: 0x20, 8: 0x30 };
const OUT_ENTRY: Record<number, number> = { 1: 0x40, 2: 0x50, 4: 0x60 };

function flat(code: boolean): Segment {
  return {
    base: 0n,
    limit: 0xffff_ffff,
    selector: code ? 8 : 16,
    type: code ? 11 : 3,
    present: 1,
    dpl: 0,
    db: code ? 0 : 1,
    s: 1,
    l: code ? 1 : 0,
    g: 1,
    avl: 0,
    unusable: 0,
  };
}

/** Writes identity-mapping page tables into the hook block and puts the vCPU in 64-bit mode. */
function enterLongMode(vcpu: Vcpu, hookMemory: Uint8Array): void {
  const view = new DataView(hookMemory.buffer, hookMemory.byteOffset, hookMemory.byteLength);
  view.setBigUint64(PML4, HOOK_BASE + BigInt(PDPT) + 3n, true);
  for (let gib = 0; gib < 4; gib++) {
    view.setBigUint64(PDPT + 8 * gib, HOOK_BASE + BigInt(PD + 0x1000 * gib) + 3n, true);
    for (let i = 0; i < 512; i++) {
      const addr = (BigInt(gib) << 30n) + (BigInt(i) << 21n);
      view.setBigUint64(PD + 0x1000 * gib + 8 * i, addr | 0x83n, true); // present, writable, 2 MiB
    }
  }
  const sregs = vcpu.getSregs();
  sregs.cs = flat(true);
  for (const name of ["ds", "es", "fs", "gs", "ss"] as const) sregs[name] = flat(false);
  sregs.cr3 = HOOK_BASE + BigInt(PML4);
  sregs.cr4 = 0x20n; // PAE
  sregs.cr0 = 0x8000_0011n; // PG | ET | PE
  sregs.efer = 0x500n; // LMA | LME
  vcpu.setSregs(sregs);
}

class StoreHooks implements KvmConformanceGuest {
  readonly #vcpu: Vcpu;

  constructor(vcpu: Vcpu) {
    this.#vcpu = vcpu;
  }

  #runEntry(entry: number, set: { rax: bigint; rbx?: bigint; rdx?: bigint }): "exit" | "none" {
    const regs = this.#vcpu.getRegs();
    regs.rip = HOOK_BASE + BigInt(entry);
    regs.rflags = 2n;
    regs.rax = set.rax;
    regs.rbx = set.rbx ?? 0n;
    regs.rdx = set.rdx ?? 0n;
    this.#vcpu.setRegs(regs);
    const first = this.#vcpu.run();
    if (first.reason === "hlt") return "none";
    if (first.reason !== "mmio" && first.reason !== "io")
      throw new Error(`guest hook: unexpected exit ${first.reason}`);
    const after = this.#vcpu.run();
    if (after.reason !== "hlt") throw new Error(`guest hook: expected hlt after the exit, got ${after.reason}`);
    return "exit";
  }

  write(gpa: bigint, value: bigint, size: 1 | 2 | 4 | 8): "exit" | "none" {
    return this.#runEntry(STORE_ENTRY[size]!, { rax: value, rbx: gpa });
  }

  pioWrite(port: number, value: number, size: 1 | 2 | 4): "exit" | "none" {
    return this.#runEntry(OUT_ENTRY[size]!, { rax: BigInt(value), rdx: BigInt(port) });
  }

  readNotifier(notifier: EventNotifier): number {
    return Number((notifier as EventFdNotifier).read());
  }
}

const factory: KvmBackendFactory = {
  name: "native /dev/kvm",
  hasGuest: true,
  hasCoalescedMmio: true,
  async create() {
    const vm = NativeKvm.open();
    const hookRam = vm.ramAllocator.allocate("conformance-hooks", HOOK_SIZE);
    const memory = hookRam.bytes();
    memory.set(guest("store", 64), 0);
    vm.setUserMemoryRegion({
      slot: HOOK_SLOT,
      flags: 0,
      guestPhysAddr: HOOK_BASE,
      memorySize: HOOK_SIZE,
      userspaceAddr: hookRam.hostAddr,
    });
    const vcpu = vm.createVcpu(0);
    enterLongMode(vcpu, memory);
    return {
      backend: vm,
      ram: vm.ramAllocator,
      createEventNotifier: () => vm.createEventNotifier(),
      guest: new StoreHooks(vcpu),
      cleanup: () => vm.close(),
    };
  },
};

describe.skipIf(!kvm.ok)("conformance on /dev/kvm", () => {
  describeKvmBackendConformance({ describe, it, expect }, factory);
});
