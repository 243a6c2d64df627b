import { MemoryRegion, SIZE_2_64 } from "@memtopo/region-tree";
import { MemorySystem } from "memtopo";

/**
 * memtopo's share of an exit without a KVM: what `runVcpu` hands an AddressSpace for one PIO exit (a 1-byte
 * `out` to an I/O region, QEMU's ioport80 shape) and one MMIO exit (a 4-byte store into a ROM, whose write
 * ends in a decode error as QEMU's does), against the cheapest bus TypeScript can have. The maps are those of
 * kvm-native's exit benchmarks (bench/exits-nested/spaces.mjs); `share_ns` is AddressSpace − bare bus of the
 * same run. Warm caches and a hot JIT: a real exit runs cold between two KVM_RUNs, so this is the floor of the
 * dispatch, not an exit's cost (kvm-native's bench/exit-share.mjs measures that on /dev/kvm).
 */
const ACCESSES = 1000;
const PIO_PORT = 0x3f8n;
const MMIO_ADDR = 0xd0000n;

function spaces() {
  const sys = new MemorySystem();
  const system = new MemoryRegion(sys, { kind: "container", name: "system", size: SIZE_2_64 });
  system.addSubregion(0n, new MemoryRegion(sys, { kind: "ram", name: "pc.ram", size: 0xa0000n }));
  system.addSubregion(0xc0000n, new MemoryRegion(sys, { kind: "rom", name: "pc.rom", size: 0x20000n }));
  const io = new MemoryRegion(sys, { kind: "container", name: "io", size: 0x10000n });
  const ops = { read: () => 0n, write() {}, valid: { minAccessSize: 1, maxAccessSize: 4 } };
  io.addSubregion(PIO_PORT, new MemoryRegion(sys, { kind: "io", name: "port", size: 8n, ops }));
  return { memory: sys.createAddressSpace("memory", system), io: sys.createAddressSpace("I/O", io) };
}

const bare = {
  read(_addr, data) {
    data.fill(0);
    return 0;
  },
  write() {
    return 0;
  },
};

const baseline = new Map();

function exitCase(name, kind, target) {
  return {
    name,
    params: [ACCESSES],
    setup(n) {
      const bus = target === "bare" ? { memory: bare, io: bare } : spaces();
      // The exit's data is a view into kvm_run: one buffer, reused by every access.
      const run = new Uint8Array(64);
      const pio = run.subarray(8, 9);
      const mmio = run.subarray(16, 20);
      let sink = 0;
      const fn =
        kind === "pio"
          ? () => {
              for (let i = 0; i < n; i++) {
                pio[0] = i;
                sink |= bus.io.write(PIO_PORT, pio);
              }
              return sink;
            }
          : () => {
              for (let i = 0; i < n; i++) {
                mmio[0] = i;
                sink |= bus.memory.write(MMIO_ADDR, mmio);
              }
              return sink;
            };
      return fn;
    },
    report(us, n) {
      const ns = (us * 1000) / n;
      if (target === "bare") baseline.set(kind, ns);
      const bareNs = baseline.get(kind);
      return {
        ns_per_access: Math.round(ns * 10) / 10,
        share_ns: target === "bare" || bareNs === undefined ? "" : Math.round((ns - bareNs) * 10) / 10,
      };
    },
  };
}

export const cases = [
  exitCase("exit-pio-bare", "pio", "bare"),
  exitCase("exit-pio", "pio", "memtopo"),
  exitCase("exit-mmio-bare", "mmio", "bare"),
  exitCase("exit-mmio", "mmio", "memtopo"),
];
