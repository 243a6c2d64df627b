import type { MemoryListener } from "@memtopo/listener-bus";
import { type EventNotifier, MemoryRegion } from "@memtopo/region-tree";
import { machineArb } from "@memtopo/test-support";
import fc from "fast-check";
import { type AddressSpace, type LoadedMachine, loadMachine, type MachineJson, MemorySystem } from "../../src/index.js";
import { notifier, recorder } from "../system/recorder.js";
import { type Replica, replica } from "./replica-listener.js";
import type { SnapshotScope } from "./system-snapshot.js";

/** A listener that misbehaves on demand from inside one of its callbacks (see misuse-meddler.ts). */
export interface Meddler extends MemoryListener {
  /** What to try at the next callback, and whether to let the error out of the callback. */
  plan: { action: number; rethrow: boolean } | null;
  /** What the armed attempt did: the error it threw and snapshots around it. */
  fired: { action: string; error: unknown; before: string; after: string } | null;
}

/** A random machine with everything the misuse sequence works on. */
export interface World extends SnapshotScope {
  readonly sys: MemorySystem;
  /** Every region of `sys`, the loaded machine's and the ones added here. */
  readonly regions: MemoryRegion[];
  /** Every space ever created on `sys`, destroyed ones included. */
  readonly spaces: AddressSpace[];
  /** Replica listeners, registered or not; each one's space is whatever the system says. */
  readonly replicas: Replica[];
  readonly log: string[];
  readonly logger: MemoryListener;
  readonly meddler: Meddler;
  readonly notifiers: readonly EventNotifier[];
  /** VGA dirty-log clients started per region by the sequence (the region keeps its count private). */
  readonly vga: Map<MemoryRegion, number>;
  /** Another machine: its regions and spaces are foreign to `sys`. */
  readonly other: { readonly sys: MemorySystem; readonly region: MemoryRegion; readonly as: AddressSpace };
}

export interface MachineSeed {
  readonly json: MachineJson;
  readonly accel: "none" | "tcg" | "kvm";
  readonly fds: readonly { r: number; at: bigint; size: number; match: boolean; data: bigint; e: number }[];
  readonly meddlerSpace: number;
  readonly meddlerPriority: number;
}

export const machineSeedArb: fc.Arbitrary<MachineSeed> = fc.record({
  json: machineArb({ uniqueNames: true }),
  accel: fc.constantFrom("none" as const, "tcg" as const, "kvm" as const),
  fds: fc.array(
    fc.record({
      r: fc.nat(),
      at: fc.bigInt({ min: 0n, max: 0x20n }),
      size: fc.constantFrom(0, 1, 2, 4, 8),
      match: fc.boolean(),
      data: fc.bigInt({ min: 0n, max: 0xffn }),
      e: fc.nat(3),
    }),
    { maxLength: 6 },
  ),
  meddlerSpace: fc.nat(),
  meddlerPriority: fc.nat(20),
});

export const live = (w: World): readonly AddressSpace[] => w.sys.addressSpaces;

/**
 * Loads the random machine (regions of every kind QEMU's `memory_region_init_*` make, overlaps, aliases,
 * spaces that may share a root), adds a space sharing the first one's root, an I/O space
 * with port regions, ioeventfds on MMIO and I/O regions, a replica on every space, a
 * recorder, the meddler, and a second machine to be foreign to this one.
 */
export function buildWorld(seed: MachineSeed, meddler: Meddler): World {
  const machine: LoadedMachine = loadMachine({ ...seed.json, accel: seed.accel });
  const sys = machine.host;
  const regions = [...machine.regions.values()];
  const first = machine.addressSpaces[0]!;
  sys.createAddressSpace("cpu-memory-0", first.root!);
  const io = new MemoryRegion(sys, { kind: "container", name: "io", size: 0x10000n });
  const ports = [
    new MemoryRegion(sys, { kind: "io", name: "port-60", size: 0x10n }),
    new MemoryRegion(sys, { kind: "io", name: "port-3f8", size: 0x8n }),
  ];
  io.addSubregion(0x60n, ports[0]!);
  io.addSubregion(0x3f8n, ports[1]!);
  regions.push(io, ...ports);
  sys.createAddressSpace("I/O", io);

  const notifiers = [notifier(), notifier(), notifier(), notifier()];
  const devices = regions.filter((r) => r.kind === "io" || r.kind === "rom-device");
  for (const f of seed.fds) {
    const r = devices[f.r % devices.length]!;
    const at = r.size === 0n ? 0n : f.at % r.size;
    r.addEventfd(at, f.size, f.match, f.size === 0 ? 0n : f.data, notifiers[f.e]!);
  }

  const log: string[] = [];
  const logger = recorder(log, "recorder", 3);
  const replicas = sys.addressSpaces.map((as) => replica(`replica:${as.name}`, seed.meddlerPriority % 7));
  sys.addressSpaces.forEach((as, i) => {
    sys.registerListener(replicas[i]!, as);
  });
  replicas.push(replica("spare-1"), replica("spare-2", 11));
  sys.registerListener(logger, first);
  sys.registerListener(meddler, sys.addressSpaces[seed.meddlerSpace % sys.addressSpaces.length]!);

  const otherSys = new MemorySystem();
  const otherRoot = new MemoryRegion(otherSys, { kind: "container", name: "foreign", size: 0x10000n });
  otherRoot.addSubregion(0n, new MemoryRegion(otherSys, { kind: "ram", name: "foreign-ram", size: 0x1000n }));

  return {
    sys,
    regions,
    spaces: [...sys.addressSpaces],
    replicas,
    log,
    logger,
    meddler,
    notifiers,
    vga: new Map(),
    other: { sys: otherSys, region: otherRoot, as: otherSys.createAddressSpace("foreign", otherRoot) },
    listenerState: () => ({ log: log.length, replicas: replicas.map((r) => r.state()) }),
  };
}
