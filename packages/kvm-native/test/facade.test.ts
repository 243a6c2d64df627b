import { attachKvm } from "@memtopo/kvm";
import { MemoryRegion, type MemoryRegionOps, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeLayout } from "../src/binding.js";
import { enterRealMode, NativeKvm, nativeRamAllocator, runVcpu } from "../src/index.js";
import { CODE_AT, guest, kvm } from "./helpers.js";
import { scriptedVcpu } from "./scripted-vcpu.js";

// The facade's AddressSpace is a GuestBus as it is: exits reach MemoryRegionOps
// through QEMU's access path, and RAM regions live in the addon's memory.
const loaded = loadBinding();

interface Machine {
  sys: MemorySystem;
  ram: MemoryRegion;
  serial: MemoryRegion;
  log: string[];
  memory: ReturnType<MemorySystem["createAddressSpace"]>;
  io: ReturnType<MemorySystem["createAddressSpace"]>;
}

function device(name: string, log: string[], values: Record<string, bigint>): MemoryRegionOps {
  return {
    read(offset, size) {
      log.push(`${name} read ${offset.toString(16)}/${size}`);
      return values[offset.toString(16)] ?? 0n;
    },
    write(offset, value, size) {
      log.push(`${name} write ${offset.toString(16)}/${size} = ${value.toString(16)}`);
    },
    valid: { minAccessSize: 1, maxAccessSize: 4 },
  };
}

function build(ramAllocator = nativeRamAllocator()): Machine {
  const sys = new MemorySystem({ ramAllocator });
  const log: string[] = [];
  const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  const ram = new MemoryRegion(sys, { kind: "ram", name: "pc.ram", size: 0x4000n });
  const mmio = new MemoryRegion(sys, {
    kind: "io",
    name: "dev",
    size: 0x1000n,
    ops: device("dev", log, { "0": 0x99n, "4": 0x12345678n }),
  });
  system.addSubregion(0n, ram);
  system.addSubregion(0xd0000n, mmio);
  const ioRoot = new MemoryRegion(sys, { kind: "container", name: "io", size: 0x10000n });
  const serial = new MemoryRegion(sys, {
    kind: "io",
    name: "serial",
    size: 8n,
    ops: device("serial", log, { "0": 0x41n }),
  });
  ioRoot.addSubregion(0x3f8n, serial);
  return {
    sys,
    ram,
    serial,
    log,
    memory: sys.createAddressSpace("memory", system),
    io: sys.createAddressSpace("I/O", ioRoot),
  };
}

describe.skipIf(!isBinding(loaded))("runVcpu through memtopo's AddressSpace", () => {
  const layout = (loaded as { layout: NativeLayout }).layout;

  it("MMIO and PIO exits reach MemoryRegionOps at region offsets, and read values land in kvm_run", () => {
    const m = build();
    const vcpu = scriptedVcpu(layout, [
      { io: { out: false, port: 0x3f8, size: 1, count: 1 } },
      { io: { out: true, port: 0x3f9, size: 1, count: 1, bytes: [0x42] } },
      { mmio: { addr: 0xd0004n, write: false, len: 4 } },
      { mmio: { addr: 0xd0008n, write: true, len: 2, bytes: [0x34, 0x12] } },
    ]);
    const result = runVcpu(vcpu, { memory: m.memory, io: m.io });
    expect(result).toMatchObject({ reason: "hlt", exits: 4, failedAccesses: 0 });
    expect(m.log).toEqual(["serial read 0/1", "serial write 1/1 = 42", "dev read 4/4", "dev write 8/2 = 1234"]);
    expect(vcpu.seenBeforeRun).toEqual([[0x41], [0x78, 0x56, 0x34, 0x12]]);
  });

  it("an access to a gap is a failed access (MEMTX_DECODE_ERROR) and the guest still goes on", () => {
    const m = build();
    const vcpu = scriptedVcpu(layout, [{ mmio: { addr: 0xe0000n, write: true, len: 1, bytes: [1] } }]);
    expect(runVcpu(vcpu, { memory: m.memory, io: m.io })).toMatchObject({ reason: "hlt", failedAccesses: 1 });
  });

  it("RAM regions are the addon's memory: AddressSpace writes are bytes of the block", () => {
    const m = build();
    m.memory.write(0x2000n, Uint8Array.of(7, 8));
    expect([...m.ram.ramBlock!.bytes().subarray(0x2000, 0x2002)]).toEqual([7, 8]);
    expect(m.ram.ramBlock!.hostAddr % 4096n).toBe(0n);
  });

  it.skipIf(!kvm.ok)("a real guest: RAM from the memory map in a memslot, devices as MemoryRegionOps", () => {
    const vm = NativeKvm.open();
    try {
      const m = build(vm.ramAllocator);
      const block = m.ram.ramBlock!;
      block.bytes().set(guest("devices"), CODE_AT);
      vm.setUserMemoryRegion({
        slot: 0,
        flags: 0,
        guestPhysAddr: 0n,
        memorySize: block.size,
        userspaceAddr: block.hostAddr,
      });
      const vcpu = vm.createVcpu(0);
      enterRealMode(vcpu, CODE_AT);
      const result = runVcpu(vcpu, { memory: m.memory, io: m.io }, { maxExits: 20 });
      expect(result.reason).toBe("hlt");
      expect(m.log).toEqual([
        "serial read 0/1",
        "serial write 0/1 = 42",
        "dev read 0/1",
        "dev read 4/4",
        "dev write 8/2 = 1234",
      ]);
      expect(block.bytes()[0x2001]).toBe(0x99);
    } finally {
      vm.close();
    }
  });

  it.skipIf(!kvm.ok)(
    "a real guest with a coalesced port (`memory_region_add_coalescing`, `kvm_coalesce_mmio_region`/`kvm_coalesce_pio_add`): the `out` waits in the kernel's ring and reaches the device at the next transaction begin",
    () => {
      const vm = NativeKvm.open();
      try {
        const m = build(vm.ramAllocator);
        const kvmAttachment = attachKvm(m.sys, vm, { memory: m.memory, io: m.io });
        expect(kvmAttachment.coalescedPio).not.toBeNull();
        m.ram.ramBlock!.bytes().set(guest("devices"), CODE_AT);
        // The port the guest writes 0x42 to: a coalesced PIO zone at 0x3f8, length 1.
        m.serial.addCoalescing(0n, 1n);
        const vcpu = vm.createVcpu(0);
        enterRealMode(vcpu, CODE_AT);
        const result = runVcpu(vcpu, { memory: m.memory, io: m.io }, { maxExits: 20 });
        expect(result.reason).toBe("hlt");
        expect(m.log).toEqual(["serial read 0/1", "dev read 0/1", "dev read 4/4", "dev write 8/2 = 1234"]);
        m.sys.begin();
        m.sys.commit();
        expect(m.log.at(-1)).toBe("serial write 0/1 = 42");
      } finally {
        vm.close();
      }
    },
  );
});
