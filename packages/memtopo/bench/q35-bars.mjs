// The map on which QEMU 7.2's commit cost was measured (docs/benchmarks.md): a q35 machine held at
// reset, plus N devices with one 1 MiB MMIO BAR each behind ceil(N/31) PCI bridges. Each
// bridge maps its secondary bus into `pci` through a 32 MiB window alias; every device and
// bridge has a bus-master address space (bus mastering off: an empty view, as in QEMU).
// KVM-style listeners (region_add/region_del, no region_nop) sit on `memory` and `I/O`.
import fs from "node:fs";
import { caseFile } from "@memtopo/fixtures";
import { MemoryRegion } from "@memtopo/region-tree";
import { loadMachine } from "memtopo";

const SIZE_2_64 = 1n << 64n;
const MiB = 1n << 20n;
const fixture = caseFile("x86-q35-held-kvm", "machine.json");

function busMasterSpace(sys, system, name) {
  const container = new MemoryRegion(sys, { kind: "container", name: "bus master container", size: SIZE_2_64 });
  const alias = new MemoryRegion(sys, {
    kind: "alias",
    name: "bus master",
    size: SIZE_2_64,
    target: system,
    offset: 0n,
  });
  alias.setEnabled(false);
  container.addSubregion(0n, alias);
  sys.createAddressSpace(name, container);
}

export function q35WithBars(n) {
  const machine = loadMachine(fs.readFileSync(fixture, "utf8"));
  const sys = machine.host;
  const memory = sys.addressSpaces.find((as) => as.name === "memory");
  const io = sys.addressSpaces.find((as) => as.name === "I/O");
  const system = memory.root;
  const pci = system.subregions.find((r) => r.name === "pci");
  const bars = [];
  sys.begin();
  const bridges = Math.ceil(n / 31);
  for (let b = 0; b < bridges; b++) {
    const base = 0xc0000000n + BigInt(b) * 32n * MiB;
    const bus = new MemoryRegion(sys, { kind: "container", name: "pci_bridge_pci", size: SIZE_2_64 });
    const window = new MemoryRegion(sys, {
      kind: "alias",
      name: "pci_bridge_mem",
      size: 32n * MiB,
      target: bus,
      offset: base,
    });
    pci.addSubregionOverlap(base, window, 1);
    busMasterSpace(sys, system, "pci-bridge");
    for (let d = 0; d < 31 && b * 31 + d < n; d++) {
      const bar = new MemoryRegion(sys, { kind: "io", name: "edu-mmio", size: MiB, ops: {} });
      bus.addSubregionOverlap(base + BigInt(d) * MiB, bar, 1);
      bars.push({ bus, bar, addr: base + BigInt(d) * MiB });
      busMasterSpace(sys, system, "edu");
    }
  }
  sys.commit();
  const kvmLike = (name) => ({ name, priority: 10, regionAdd() {}, regionDel() {}, eventfdAdd() {}, eventfdDel() {} });
  sys.registerListener(kvmLike("kvm-memory"), memory);
  sys.registerListener(kvmLike("kvm-io"), io);
  return { sys, memory, bars };
}
