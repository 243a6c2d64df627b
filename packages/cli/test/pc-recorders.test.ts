import { MockKvm } from "@memtopo/kvm-mock";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";
import { describe, expect, it } from "vitest";
import { type DiffableMachine, type DiffEvent, diffMachines } from "../src/diff/machine-diff.js";
import { CommitEventRecorder } from "../src/pc/commit-events.js";
import { memslotLine } from "../src/pc/memslot-trace.js";

// What `memtopo pc --events` and `--trace-memslots` write, checked against the rules they claim: a commit's
// events are what `memtopo diff` prints for the maps before and after it (QEMU's listener order, on memtopo and
// the mock kernel), and a memslot line holds the fields of QEMU's kvm_set_user_memory trace.

function machine(kernel = new MockKvm()) {
  const sys = new MemorySystem({ accel: "kvm", ramAllocator: kernel.ramAllocator() });
  const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  const ram = new MemoryRegion(sys, { kind: "ram", name: "pc.ram", size: 0x100000n });
  const rom = new MemoryRegion(sys, { kind: "rom", name: "pc.bios", size: 0x20000n });
  const shadow = new MemoryRegion(sys, {
    kind: "alias",
    name: "pam-ram",
    size: 0x10000n,
    target: ram,
    offset: 0n,
  });
  const io = new MemoryRegion(sys, { kind: "container", name: "io", size: 0x10000n });
  sys.begin();
  system.addSubregion(0n, ram);
  system.addSubregion(0xfffe0000n, rom);
  system.addSubregionOverlap(0xf0000n, shadow, 1);
  shadow.setEnabled(false);
  sys.commit();
  const memory = sys.createAddressSpace("memory", system);
  const ioSpace = sys.createAddressSpace("I/O", io);
  return { sys, kernel, ram, shadow, memory, ioSpace };
}

const snapshot = (sys: MemorySystem): DiffableMachine => ({
  addressSpaces: sys.addressSpaces.map((as) => ({
    name: as.name,
    currentMap: as.currentMap,
    ioeventfds: as.ioeventfds,
  })),
});

describe("--events: the listener events of each commit", () => {
  it("equal memtopo diff of the maps before and after the commit, begin first and commit last, once per commit", () => {
    const m = machine();
    const commits: (readonly DiffEvent[])[] = [];
    new CommitEventRecorder((events) => commits.push(events)).attach(m.sys, (listener, as) =>
      m.sys.registerListener(listener, as),
    );
    const before = snapshot(m.sys);
    m.sys.begin();
    m.shadow.setEnabled(true);
    m.sys.commit();
    const after = snapshot(m.sys);
    m.sys.begin();
    m.shadow.setEnabled(false);
    m.sys.commit();
    expect(commits).toHaveLength(2);
    expect(commits[0]).toEqual(diffMachines(before, after));
    expect(commits[1]).toEqual(diffMachines(after, snapshot(m.sys)));
    expect(
      commits[0]?.some(
        (e) => e.event === "region_add" && e.region === "pc.ram" && e.start === "0xf0000" && e.offset === "0x0",
      ),
    ).toBe(true);
  });
});

describe("--trace-memslots: a KVM_SET_USER_MEMORY_REGION call", () => {
  it("a line is QEMU's trace fields as JSON: slot with the address space in bits 16+, flags, gpa, size", () => {
    expect(
      memslotLine({ slot: 65537, flags: 2, guestPhysAddr: 0xc0000n, memorySize: 0x20000n, userspaceAddr: 0x7f00n }),
    ).toBe('{"slot":65537,"flags":2,"gpa":"0xc0000","size":"0x20000"}\n');
    expect(memslotLine({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 0n, userspaceAddr: 0n })).toBe(
      '{"slot":0,"flags":0,"gpa":"0x0","size":"0x0"}\n',
    );
  });
});
