import { MemoryRegion } from "@memtopo/region-tree";
import { q35WithBars } from "./q35-bars.mjs";

// Two commits of the q35 map that firmware and management make, paired with QEMU by
// qemu-pam-hotadd.py: a PAM toggle (the 13 segments of 0xc0000-0xfffff between PCI and RAM,
// as SeaBIOS's make_bios_writable / make_bios_readonly do) and a RAM hot-add (a DIMM mapped
// into the device-memory container at 4 GiB, as pc_dimm_plug does, and unplugged again).

const MiB = 1n << 20n;
const GiB = 1n << 30n;

/** The 13 PAM segments of the map, each its four aliases in QEMU's order (to PCI, ROM, RAM-write, RAM). */
function pamSegments(system) {
  const bySegment = new Map();
  for (const mr of system.subregions) {
    if (!mr.name.startsWith("pam-")) continue;
    const list = bySegment.get(mr.addr) ?? [];
    list.push(mr);
    bySegment.set(mr.addr, list);
  }
  return [...bySegment.values()];
}

export const cases = [
  {
    // One operation = all 13 segments flipped (26 aliases switched): in `transactions` commits,
    // 1 as the memory API allows, 2 as QEMU's MCH does it (one 4-byte config write covers PAM0-3,
    // one PAM4-6, each write its own transaction).
    name: "pam",
    params: [1, 2],
    setup(transactions) {
      const { sys, memory } = q35WithBars(0);
      const segments = pamSegments(memory.root);
      if (segments.length !== 13 || segments.some((s) => s.length !== 4)) throw new Error("not the q35 PAM layout");
      // Index loops: an entries() iterator per segment would cost more allocation than a PAM alias switch.
      const setMode = (segs, mode) => {
        for (let i = 0; i < segs.length; i++) {
          const s = segs[i];
          for (let m = 0; m < s.length; m++) s[m].setEnabled(m === mode);
        }
      };
      sys.begin();
      setMode(segments, 0);
      sys.commit();
      const parts = transactions === 1 ? [segments] : [segments.slice(0, 7), segments.slice(7)];
      let mode = 0;
      return {
        fn: () => {
          mode = 3 - mode;
          for (const part of parts) {
            sys.begin();
            setMode(part, mode);
            sys.commit();
          }
        },
        extra: { ranges: memory.currentMap.ranges.length },
      };
    },
    report: (us, transactions) => ({ us_per_toggle: Math.round(us * 100) / 100, commits: transactions }),
  },
  {
    // One operation = one commit: a 128 MiB DIMM added to or removed from device memory.
    name: "hot-add",
    params: [128],
    setup(sizeMiB) {
      const { sys, memory } = q35WithBars(0);
      const deviceMemory = new MemoryRegion(sys, { kind: "container", name: "device-memory", size: 4n * GiB });
      memory.root.addSubregion(4n * GiB, deviceMemory);
      const dimm = new MemoryRegion(sys, { kind: "ram", name: "dimm0", size: BigInt(sizeMiB) * MiB });
      let plugged = false;
      return {
        fn: () => {
          if (plugged) deviceMemory.delSubregion(dimm);
          else deviceMemory.addSubregion(0n, dimm);
          plugged = !plugged;
        },
        extra: { ranges: memory.currentMap.ranges.length },
      };
    },
    report: (us) => ({ us_per_commit: Math.round(us * 100) / 100 }),
  },
];
