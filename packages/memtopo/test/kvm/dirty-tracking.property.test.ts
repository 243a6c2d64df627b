import { attachKvm, KVM_DIRTY_LOG_INITIALLY_SET, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AddressSpace, DIRTY_PAGE_SIZE, MemorySystem } from "../../src/index.js";

// Global dirty tracking never loses a page (QEMU's migration contract): whatever the guest
// writes while tracking is on reaches the migration bitmap of its RAM block by the next
// sync, however the map moved the block meanwhile — PAM-like alias flips that split and
// merge the RAM slot, a BAR moving or overlaying RAM — and whichever way the kernel logs
// (bitmap cleared by GET, manual protect with KVM_CLEAR_DIRTY_LOG, initially-set, the ring).
// The oracle records every write; a "destination" copies the pages each take returns, and
// must equal the source after a final sync and take.

const PAGE = BigInt(DIRTY_PAGE_SIZE);
const RAM_SIZE = 0x200000n;
const VRAM_SIZE = 0x10000n;
const PAM_BASE = 0xc0000n;
const PAM_SEG = 0x10000n;
const BAR_SLOTS = [0xe0000000n, 0xe0010000n, 0x80000n, 0x1f0000n] as const;

type Mode = "bitmap" | "manual" | "manual-initially-set" | "ring";

interface Machine {
  readonly sys: MemorySystem;
  readonly kernel: MockKvm;
  readonly memory: AddressSpace;
  readonly ram: MemoryRegion;
  readonly vram: MemoryRegion;
  readonly pamRam: MemoryRegion[];
  readonly pamRom: MemoryRegion[];
  readonly bar: MemoryRegion;
}

function build(mode: Mode): Machine {
  const kernel = new MockKvm();
  if (mode === "manual") kernel.enableDirtyLogManualProtect(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
  if (mode === "manual-initially-set") {
    kernel.enableDirtyLogManualProtect(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET);
  }
  if (mode === "ring") {
    kernel.enableDirtyLogRing(0x10000);
    kernel.createVcpu(0);
  }
  const sys = new MemorySystem({ accel: "kvm", ramAllocator: kernel.ramAllocator() });
  const root = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  const ram = new MemoryRegion(sys, { kind: "ram", name: "pc.ram", size: RAM_SIZE });
  const bios = new MemoryRegion(sys, { kind: "rom", name: "pc.bios", size: 0x40000n });
  const vram = new MemoryRegion(sys, { kind: "ram", name: "vga.vram", size: VRAM_SIZE });
  root.addSubregion(
    0n,
    new MemoryRegion(sys, { kind: "alias", name: "ram-below-pam", size: PAM_BASE, target: ram, offset: 0n }),
  );
  const high = new MemoryRegion(sys, {
    kind: "alias",
    name: "ram-above-pam",
    size: RAM_SIZE - 0x100000n,
    target: ram,
    offset: 0x100000n,
  });
  root.addSubregion(0x100000n, high);
  const pamRam: MemoryRegion[] = [];
  const pamRom: MemoryRegion[] = [];
  for (let k = 0; k < 4; k++) {
    const at = PAM_BASE + BigInt(k) * PAM_SEG;
    const r = new MemoryRegion(sys, { kind: "alias", name: `pam-ram${k}`, size: PAM_SEG, target: ram, offset: at });
    const b = new MemoryRegion(sys, {
      kind: "alias",
      name: `pam-pci${k}`,
      size: PAM_SEG,
      target: bios,
      offset: BigInt(k) * PAM_SEG,
    });
    root.addSubregionOverlap(at, r, 1);
    root.addSubregionOverlap(at, b, 1);
    b.setEnabled(false);
    pamRam.push(r);
    pamRom.push(b);
  }
  const bar = new MemoryRegion(sys, { kind: "alias", name: "bar0", size: VRAM_SIZE, target: vram, offset: 0n });
  root.addSubregionOverlap(BAR_SLOTS[0], bar, 2);
  const memory = sys.createAddressSpace("memory", root);
  attachKvm(sys, kernel, { memory });
  return { sys, kernel, memory, ram, vram, pamRam, pamRom, bar };
}

type Step =
  | { readonly kind: "write"; readonly at: number; readonly value: number }
  | { readonly kind: "pam"; readonly seg: number }
  | { readonly kind: "bar-move"; readonly to: number }
  | { readonly kind: "bar-toggle" }
  | { readonly kind: "sync" }
  | { readonly kind: "take" }
  | { readonly kind: "sync-take" };

/** Writes aim at guest RAM, PAM, and wherever the BAR may be. */
const writeArb = fc.record({
  kind: fc.constant("write" as const),
  at: fc.oneof(
    fc.integer({ min: 0, max: Number(RAM_SIZE) - 8 }),
    fc
      .integer({ min: 0, max: 3 })
      .chain((i) => fc.integer({ min: 0, max: Number(VRAM_SIZE) - 8 }).map((o) => Number(BAR_SLOTS[i]!) + o)),
  ),
  value: fc.integer({ min: 1, max: 255 }),
});

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: writeArb },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("pam" as const), seg: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("bar-move" as const), to: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "bar-toggle" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "sync" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "take" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "sync-take" as const }) },
);

/** Pages per block (page index in the block), as the oracle keeps them. */
type PageSets = Map<MemoryRegion, Set<number>>;

function addPage(sets: PageSets, mr: MemoryRegion, page: number): void {
  let set = sets.get(mr);
  if (set === undefined) {
    set = new Set();
    sets.set(mr, set);
  }
  set.add(page);
}

function run(mode: Mode, steps: readonly Step[]): { writes: number; moves: number } {
  const m = build(mode);
  const { sys, kernel, memory } = m;
  const blocks = [m.ram, m.vram];
  const bytes = (mr: MemoryRegion) => mr.ramBlock!.bytesAt(0n, Number(mr.ramBlock!.size));
  // QEMU's bulk stage: migration starts with every page to send, then tracks what changes.
  sys.startDirtyLog();
  const dest = new Map(blocks.map((mr) => [mr, bytes(mr).slice()]));
  const pending: PageSets = new Map();
  let mustCatch: PageSets = new Map();
  let writes = 0;
  let moves = 0;

  const take = () => {
    for (const mr of blocks) {
      const bitmap = sys.takeDirtyBitmap(mr);
      const src = bytes(mr);
      const copy = dest.get(mr)!;
      for (let p = 0; p < bitmap.length * 8; p++) {
        if ((bitmap[p >>> 3]! & (1 << (p & 7))) === 0) continue;
        const at = p * DIRTY_PAGE_SIZE;
        copy.set(src.subarray(at, at + DIRTY_PAGE_SIZE), at);
        pending.get(mr)?.delete(p);
        mustCatch.get(mr)?.delete(p);
      }
    }
    for (const [mr, set] of mustCatch) {
      expect(
        [...set].map((p) => `${mr.name} page ${p}`),
        "written before the sync, missing from the take",
      ).toEqual([]);
    }
    mustCatch = new Map();
  };
  const sync = () => {
    sys.syncDirtyLog();
    for (const [mr, set] of pending) for (const p of set) addPage(mustCatch, mr, p);
  };

  for (const step of steps) {
    switch (step.kind) {
      case "write": {
        const gpa = BigInt(step.at);
        const range = memory.currentMap.lookup(gpa);
        const result = kernel.guestWrite(gpa, step.value, 1);
        if (result.kind !== "ram") break;
        // The oracle: the page of the RAM block the view shows at that address.
        expect(range?.mr.ramBlock).not.toBeNull();
        const offset = range!.offsetInRegion + (gpa - range!.start);
        addPage(pending, range!.mr, Number(offset / PAGE));
        writes++;
        break;
      }
      case "pam": {
        const toRam = !m.pamRam[step.seg]!.enabled;
        sys.begin();
        m.pamRam[step.seg]!.setEnabled(toRam);
        m.pamRom[step.seg]!.setEnabled(!toRam);
        sys.commit();
        moves++;
        break;
      }
      case "bar-move":
        m.bar.setAddress(BAR_SLOTS[step.to]!);
        moves++;
        break;
      case "bar-toggle":
        m.bar.setEnabled(!m.bar.enabled);
        moves++;
        break;
      case "sync":
        sync();
        break;
      case "take":
        take();
        break;
      case "sync-take":
        sync();
        take();
        break;
    }
  }
  // The last round: the guest is stopped, one more sync and take, and nothing may be missing.
  sync();
  take();
  for (const mr of blocks) {
    const src = bytes(mr);
    const copy = dest.get(mr)!;
    for (let at = 0; at < src.length; at += DIRTY_PAGE_SIZE) {
      const same = src.subarray(at, at + DIRTY_PAGE_SIZE).every((b, i) => copy[at + i] === b);
      expect(same, `${mr.name} page ${at / DIRTY_PAGE_SIZE} differs at the destination`).toBe(true);
    }
  }
  expect(kernel.calls.filter((c) => c.errno !== undefined)).toEqual([]);
  sys.stopDirtyLog();
  return { writes, moves };
}

describe("the dirty ring between syncs (kvm_cpu_exec on KVM_EXIT_DIRTY_RING_FULL)", () => {
  it("the attachment's reaper empties a full ring; the reaped pages wait in their slots for the next sync", () => {
    const kernel = new MockKvm();
    kernel.enableDirtyLogRing(0x1000); // 256 entries
    kernel.createVcpu(0);
    const sys = new MemorySystem({ accel: "kvm", ramAllocator: kernel.ramAllocator() });
    const root = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
    const ram = new MemoryRegion(sys, { kind: "ram", name: "pc.ram", size: 0x200000n });
    root.addSubregion(0n, ram);
    const kvm = attachKvm(sys, kernel, { memory: sys.createAddressSpace("memory", root) });
    sys.startDirtyLog();
    for (let p = 0n; p < 256n; p++) kernel.guestWrite(p * PAGE, 1, 1);
    expect(() => kernel.guestWrite(256n * PAGE, 1, 1)).toThrow(/KVM_EXIT_DIRTY_RING_FULL/);
    expect(kvm.dirtyRing!.reap()).toBe(256);
    kernel.guestWrite(256n * PAGE, 1, 1);
    expect(
      sys.takeDirtyBitmap(ram).some((b) => b !== 0),
      "nothing reaches the block before a sync",
    ).toBe(false);
    sys.syncDirtyLog();
    const pages = sys.takeDirtyBitmap(ram);
    for (let p = 0; p <= 256; p++) expect((pages[p >>> 3]! >> (p & 7)) & 1, `page ${p}`).toBe(1);
  });
});

describe("global dirty tracking against the mock kernel: no dirty page is lost", () => {
  for (const mode of ["bitmap", "manual", "manual-initially-set", "ring"] as const) {
    it(`${mode}: random writes, PAM flips, BAR moves and sync/take steps`, () => {
      let writes = 0;
      let moves = 0;
      fc.assert(
        fc.property(fc.array(stepArb, { minLength: 60, maxLength: 150, size: "max" }), (steps) => {
          const r = run(mode, steps);
          writes += r.writes;
          moves += r.moves;
        }),
        { numRuns: 40 },
      );
      // The property must have exercised writes into RAM and map changes, or it proves nothing.
      expect(writes).toBeGreaterThan(1000);
      expect(moves).toBeGreaterThan(300);
    });
  }
});
