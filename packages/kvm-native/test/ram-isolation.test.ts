import { attachKvm } from "@memtopo/kvm";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { NativeKvm, nativeRamAllocator, type Segment, type Vcpu } from "../src/index.js";
import { CODE_AT, guest, kvm } from "./helpers.js";

// on /dev/kvm: an 8 GiB machine runs, and a memslot reaches only live RAM
// of its own VM, whatever the host addresses the kernel hands out again.

const GiB = 1n << 30n;
const BLOCK = 0x10000n;

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

/**
 * 64-bit mode with 2 MiB identity pages for guest-physical [0, 4 MiB), [6 GiB, +2 MiB)
 * and [9 GiB - 2 MiB, 9 GiB); the tables live at 0x10000 in low RAM (`write` puts bytes there).
 */
function enterLongMode(vcpu: Vcpu, write: (gpa: bigint, bytes: Uint8Array) => void): void {
  const PML4 = 0x10000n;
  const PDPT = 0x11000n;
  const pd = (gib: number) => 0x12000n + BigInt(gib) * 0x1000n;
  const entry = (value: bigint) => {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, value, true);
    return bytes;
  };
  write(PML4, entry(PDPT | 3n));
  for (const gib of [0, 6, 8]) write(PDPT + BigInt(gib) * 8n, entry(pd(gib) | 3n));
  const page = (gpa: bigint) => entry(gpa | 0x83n); // present, writable, 2 MiB
  write(pd(0), page(0n));
  write(pd(0) + 8n, page(2n << 20n));
  write(pd(6), page(6n * GiB));
  write(pd(8) + 511n * 8n, page(9n * GiB - (2n << 20n)));
  const sregs = vcpu.getSregs();
  sregs.cs = flat(true);
  for (const name of ["ds", "es", "fs", "gs", "ss"] as const) sregs[name] = flat(false);
  sregs.cr3 = PML4;
  sregs.cr4 = 0x20n; // PAE
  sregs.cr0 = 0x8000_0011n; // PG | ET | PE
  sregs.efer = 0x500n; // LMA | LME
  vcpu.setSregs(sregs);
  const regs = vcpu.getRegs();
  regs.rip = BigInt(CODE_AT);
  regs.rflags = 2n;
  vcpu.setRegs(regs);
}

describe.skipIf(!kvm.ok)("guest RAM on /dev/kvm", () => {
  it("an 8 GiB PC machine (3 GiB below 4 GiB, 5 GiB above) runs a long-mode guest that reads and writes above 4 GiB", () => {
    const vm = NativeKvm.open();
    try {
      const sys = new MemorySystem({ ramAllocator: vm.ramAllocator });
      const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
      const ram = new MemoryRegion(sys, { kind: "ram", name: "pc.ram", size: 8n * GiB });
      system.addSubregion(
        0n,
        new MemoryRegion(sys, { kind: "alias", name: "ram-below-4g", target: ram, offset: 0n, size: 3n * GiB }),
      );
      system.addSubregion(
        4n * GiB,
        new MemoryRegion(sys, { kind: "alias", name: "ram-above-4g", target: ram, offset: 3n * GiB, size: 5n * GiB }),
      );
      const memory = sys.createAddressSpace("memory", system);
      attachKvm(sys, vm, { memory });
      expect(vm.memslots().map((s) => [s.guestPhysAddr, s.memorySize])).toEqual([
        [0n, 3n * GiB],
        [4n * GiB, 5n * GiB],
      ]);
      const block = ram.ramBlock!;
      expect(() => block.bytes()).toThrow(expect.objectContaining({ code: "E_RAM_TOO_LARGE" }));
      block.bytesAt(BigInt(CODE_AT), 0x1000).set(guest("high-ram", 64));
      // GPA 6 GiB is block offset 5 GiB; the host's dword for the guest to copy.
      block.bytesAt(5n * GiB + 0x100n, 4).set([0xef, 0xbe, 0xad, 0xde]);
      const vcpu = vm.createVcpu(0);
      enterLongMode(vcpu, (gpa, bytes) => {
        expect(memory.write(gpa, bytes)).toBe(0);
      });
      const exit = vcpu.run();
      expect(exit.reason).toBe("hlt");
      expect([...block.bytesAt(5n * GiB, 4)]).toEqual([0x44, 0x33, 0x22, 0x11]);
      expect([...block.bytesAt(0x2000n, 4)]).toEqual([0xef, 0xbe, 0xad, 0xde]);
      expect([...block.bytesAt(8n * GiB - 4n, 4)]).toEqual([0x88, 0x77, 0x66, 0x55]);
      // The facade sees the same bytes at the guest-physical addresses.
      const out = new Uint8Array(4);
      expect(memory.read(9n * GiB - 4n, out)).toBe(0);
      expect([...out]).toEqual([0x88, 0x77, 0x66, 0x55]);
    } finally {
      vm.close();
    }
  });

  for (const how of ["release()", "vm.close()"] as const) {
    it(`after ${how}, another VM's RAM at the reused host address cannot be mapped into this VM (E_RAM_FOREIGN)`, () => {
      const victim = NativeKvm.open();
      const attacker = NativeKvm.open();
      const gone = NativeKvm.open();
      const held: { release(): void }[] = [];
      try {
        const freed = gone.ramAllocator.allocate("freed", BLOCK);
        const addr = freed.hostAddr;
        if (how === "release()") freed.release();
        else gone.close();
        // The victim's new RAM takes the freed address (mmap reuses the hole).
        let secret: ReturnType<typeof victim.ramAllocator.allocate> | undefined;
        for (let i = 0; i < 256 && secret === undefined; i++) {
          const block = victim.ramAllocator.allocate("secret", BLOCK);
          if (block.hostAddr === addr) secret = block;
          else held.push(block);
        }
        expect(secret, "the kernel handed the address out again").toBeDefined();
        secret!.bytes().set([0x53, 0x45, 0x43, 0x52, 0x45, 0x54]);
        for (const vm of [attacker, gone]) {
          if (vm.closed) continue;
          expect(() =>
            vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: BLOCK, userspaceAddr: addr }),
          ).toThrow(expect.objectContaining({ name: "KvmError", code: "E_RAM_FOREIGN" }));
          expect(vm.memslots()).toEqual([]);
        }
        // Its own VM maps it as usual.
        victim.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: BLOCK, userspaceAddr: addr });
      } finally {
        for (const block of held) block.release();
        victim.close();
        attacker.close();
        gone.close();
      }
    });
  }

  it("a released block that a slot still holds stays the guest's, and backs no new slot (E_RAM_RELEASED)", () => {
    const vm = NativeKvm.open();
    try {
      const ram = vm.ramAllocator.allocate("held", BLOCK);
      const addr = ram.hostAddr;
      vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: BLOCK, userspaceAddr: addr });
      ram.release();
      expect(() =>
        vm.setUserMemoryRegion({ slot: 1, flags: 0, guestPhysAddr: BLOCK, memorySize: 0x1000n, userspaceAddr: addr }),
      ).toThrow(expect.objectContaining({ name: "KvmError", code: "E_RAM_RELEASED" }));
      // While slot 0 holds it, no other block can sit at that address.
      const other = vm.ramAllocator.allocate("other", BLOCK);
      expect(other.hostAddr).not.toBe(addr);
      vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 0n, userspaceAddr: addr });
    } finally {
      vm.close();
    }
  });

  it("a VM-less allocator's blocks back no slot until one VM adopts it, and then only in that VM", () => {
    const a = NativeKvm.open();
    const b = NativeKvm.open();
    const allocator = nativeRamAllocator();
    try {
      const early = allocator.allocate("early", BLOCK);
      const region = (addr: bigint) => ({
        slot: 0,
        flags: 0,
        guestPhysAddr: 0n,
        memorySize: BLOCK,
        userspaceAddr: addr,
      });
      expect(() => a.setUserMemoryRegion(region(early.hostAddr))).toThrow(
        expect.objectContaining({ code: "E_RAM_FOREIGN" }),
      );
      a.adoptRam(allocator);
      a.adoptRam(allocator);
      const late = allocator.allocate("late", BLOCK);
      a.setUserMemoryRegion(region(early.hostAddr));
      a.setUserMemoryRegion({ ...region(late.hostAddr), slot: 1, guestPhysAddr: BLOCK });
      expect(() => b.adoptRam(allocator)).toThrow(expect.objectContaining({ name: "KvmError", code: "E_RAM_FOREIGN" }));
      expect(() => b.adoptRam(a.ramAllocator)).toThrow(expect.objectContaining({ code: "E_RAM_FOREIGN" }));
      expect(() => b.adoptRam({} as never)).toThrow(expect.objectContaining({ code: "EINVAL" }));
      for (const addr of [early.hostAddr, late.hostAddr]) {
        expect(() => b.setUserMemoryRegion(region(addr))).toThrow(expect.objectContaining({ code: "E_RAM_FOREIGN" }));
      }
      a.close();
      // Still a's after a is closed: never another VM's.
      expect(() => b.setUserMemoryRegion(region(late.hostAddr))).toThrow(
        expect.objectContaining({ code: "E_RAM_FOREIGN" }),
      );
      expect(b.memslots()).toEqual([]);
    } finally {
      allocator.releaseAll();
      a.close();
      b.close();
    }
  });
});
