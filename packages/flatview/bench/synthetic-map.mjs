import { MemoryRegion, StandaloneHost } from "@memtopo/region-tree";

/**
 * A synthetic machine of about `count` regions with QEMU-like structure: a 2^64
 * `system` container holding RAM behind aliases, and buses (containers) of devices,
 * where every 8th device is a RAM BAR and every 16th bus also carries a
 * higher-priority window alias over part of RAM, so rendering meets overlaps,
 * aliases and gap filling.
 */
export function syntheticMap(count) {
  const host = new StandaloneHost();
  const system = new MemoryRegion(host, { kind: "container", name: "system", size: 1n << 64n });
  const ram = new MemoryRegion(host, { kind: "ram", name: "ram", size: 1n << 32n });
  system.addSubregion(
    0n,
    new MemoryRegion(host, { kind: "alias", name: "ram-lo", size: 0xc0000000n, target: ram, offset: 0n }),
  );
  const perBus = 32;
  let made = 3;
  for (let bus = 0; made < count; bus++) {
    const busBase = 0x100000000n + BigInt(bus) * 0x1000000n;
    const c = new MemoryRegion(host, { kind: "container", name: `bus${bus}`, size: 0x1000000n });
    made++;
    for (let d = 0; d < perBus && made < count; d++, made++) {
      const kind = d % 8 === 7 ? "ram" : "io";
      c.addSubregion(BigInt(d) * 0x10000n, new MemoryRegion(host, { kind, name: `dev${bus}.${d}`, size: 0x8000n }));
    }
    if (bus % 16 === 15) {
      const w = new MemoryRegion(host, {
        kind: "alias",
        name: `win${bus}`,
        size: 0x400000n,
        target: ram,
        offset: BigInt(bus) * 0x1000n,
      });
      c.addSubregionOverlap(0x100000n, w, 1);
      made++;
    }
    system.addSubregion(busBase, c);
  }
  return { host, system };
}
