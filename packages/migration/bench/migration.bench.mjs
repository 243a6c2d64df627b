import { attachKvm } from "@memtopo/kvm";
import { MockKvm } from "@memtopo/kvm-mock";
import { IncomingMigration, OutgoingMigration, ramBlocksOf, systemDirtyPageSource } from "@memtopo/migration";
import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";

/** A VM on the mock kernel with `mib` MiB of RAM at 0, every page non-zero when `fill`. */
function vm(mib, fill) {
  const kvm = new MockKvm();
  const system = new MemorySystem({ ramAllocator: kvm.ramAllocator(), accel: "kvm" });
  const root = new MemoryRegion(system, { kind: "container", name: "system", size: SIZE_2_64 });
  const ram = new MemoryRegion(system, { kind: "ram", name: "pc.ram", size: BigInt(mib) << 20n });
  root.addSubregion(0n, ram);
  const memory = system.createAddressSpace("memory", root);
  attachKvm(system, kvm, { memory });
  if (fill) {
    const bytes = ram.ramBlock.bytes();
    for (let at = 0; at < bytes.length; at += 4096) bytes[at + 100] = (at >>> 12) | 1;
  }
  return { kvm, system, ram, migratable: { system, ramBlocks: ramBlocksOf([memory]), vcpus: [] } };
}

export const cases = [
  {
    // Round 1 of a pre-copy migration (every page, framed, CRC'd, then checked, decoded and stored by the
    // destination) between two VMs in one process: the stream's own cost, no link.
    name: "migration-round",
    params: [16, 64],
    samples: 5,
    setup(mib) {
      const source = vm(mib, true);
      const destination = vm(mib, false);
      const pages = mib * 256;
      return {
        fn() {
          const incoming = new IncomingMigration(destination.migratable);
          const outgoing = new OutgoingMigration(
            source.migratable,
            systemDirtyPageSource(source.system),
            (chunk) => incoming.push(chunk),
            { downtimePages: pages },
          );
          outgoing.begin();
          outgoing.iterate();
          outgoing.complete();
          incoming.finish();
        },
        extra: { pages },
      };
    },
    report: (us, _mib, { pages }) => ({
      ms_per_migration: Math.round(us / 100) / 10,
      pages_per_s: Math.round(pages / (us / 1e6)),
    }),
  },
];
