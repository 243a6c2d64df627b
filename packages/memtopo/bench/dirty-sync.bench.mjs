import { attachKvm } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";

const PAGE = 4096;

/**
 * One migration round's bookkeeping on a RAM block of `gib` GiB with a share of its pages
 * dirty: `syncDirtyLog` (the KVM listener fetches each slot's bitmap into the block's
 * bitmaps) then `takeDirtyBitmap` (get-and-clear, and with manual protect the
 * KVM_CLEAR_DIRTY_LOG windows). The kernel's side is a backend that hands out a prepared
 * bitmap, so the figure is memtopo's own cost per page; the RAM is split into two slots
 * (below and above a 512 MiB hole, as PC RAM is) to take the alias path.
 */
function machine(gib, dirtyShare, manual) {
  const kernel = new MockKvm();
  const pages = gib * 262144;
  const bitmaps = new Map();
  const backend = {
    name: "bench",
    hostPageSize: PAGE,
    checkExtension: (cap) => kernel.checkExtension(cap),
    setUserMemoryRegion(region) {
      kernel.setUserMemoryRegion(region);
      const slotPages = Number(region.memorySize / BigInt(PAGE));
      const bitmap = new Uint8Array(Math.ceil(slotPages / 64) * 8);
      // Every k-th page dirty: a share of 1 sets every bit.
      const step = Math.round(1 / dirtyShare);
      for (let p = 0; p < slotPages; p += step) bitmap[p >>> 3] |= 1 << (p & 7);
      bitmaps.set(region.slot, bitmap);
    },
    ioeventfd: (request) => kernel.ioeventfd(request),
    getDirtyLog: (slot) => bitmaps.get(slot).slice(),
    clearDirtyLog() {},
    dirtyLogManualProtect: manual ? 1 : 0,
  };
  const sys = new MemorySystem({ accel: "kvm" });
  const root = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  const size = BigInt(pages) * BigInt(PAGE);
  const ram = new MemoryRegion(sys, { kind: "ram", name: "pc.ram", size });
  const half = size / 2n;
  root.addSubregion(0n, new MemoryRegion(sys, { kind: "alias", name: "below", size: half, target: ram, offset: 0n }));
  root.addSubregion(
    half + 0x20000000n,
    new MemoryRegion(sys, { kind: "alias", name: "above", size: size - half, target: ram, offset: half }),
  );
  attachKvm(sys, backend, { memory: sys.createAddressSpace("memory", root) });
  sys.startDirtyLog();
  return { sys, ram, pages };
}

export const cases = [
  {
    name: "dirty-sync",
    params: ["1G all", "1G 1/16", "1G all manual", "8G 1/16 manual"],
    setup(param) {
      const [size, share, manual] = param.split(" ");
      const gib = Number(size.slice(0, -1));
      const dirtyShare = share === "all" ? 1 : 1 / Number(share.split("/")[1]);
      const { sys, ram, pages } = machine(gib, dirtyShare, manual === "manual");
      return {
        fn: () => {
          sys.syncDirtyLog();
          sys.takeDirtyBitmap(ram);
        },
        extra: { pages, dirty: Math.round(pages * dirtyShare) },
      };
    },
    report: (us, _param, extra) => ({
      ms_per_round: Math.round(us / 10) / 100,
      pages_per_s: Math.round(extra.pages / (us / 1e6)),
      dirty_pages_per_s: Math.round(extra.dirty / (us / 1e6)),
    }),
  },
];
