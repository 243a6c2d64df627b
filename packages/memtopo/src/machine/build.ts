import type { MemoryRegion, MemoryRegionInit, MemoryRegionOps, RegionHost } from "@memtopo/region-tree";
import { MemtopoError, MemoryRegion as Region } from "@memtopo/region-tree";
import type { AddressSpaceShape } from "../address-space-shape.js";
import { UNASSIGNED_IO_OPS } from "../system/builtin-ops.js";
import { MachineFormatError } from "./errors.js";
import type { MachineAccel, MachineSpec, RegionSpec } from "./types.js";

/** Where a machine is built: a region host that can also create address spaces (a MemorySystem). */
export interface MachineHost<AS extends AddressSpaceShape = AddressSpaceShape> extends RegionHost {
  createAddressSpace(name: string, root: MemoryRegion): AS;
}

/** A machine description built into real regions and address spaces. */
export interface BuiltMachine<AS extends AddressSpaceShape = AddressSpaceShape> {
  readonly name: string;
  readonly accel: MachineAccel;
  readonly host: MachineHost<AS>;
  /** In creation order, as the file lists them. */
  readonly addressSpaces: readonly AS[];
  /** Every region of the file by its id. */
  readonly regions: ReadonlyMap<string, MemoryRegion>;
  /** The roots in the file's `info mtree` block order (`printMtree`'s `order`); empty when it has none. */
  readonly mtreeOrder: readonly MemoryRegion[];
  /** Facts of the file that the model keeps elsewhere (global dirty-log clients). */
  readonly warnings: readonly string[];
}

// A machine file says nothing about device behaviour: ROM devices get ops with no
// callbacks, which the access path treats as unassigned, like I/O regions without ops.
// The one exception is QEMU's own: the root of the `I/O` address space is `get_system_io()`,
// whose `unassigned_io_ops` read unclaimed ports as all ones.
const NO_OPS: MemoryRegionOps = Object.freeze({});

/**
 * Builds a validated machine into `host`: inside one transaction the regions (alias targets
 * before their aliases), their flags and subregions replayed in file order; after its commit
 * the address spaces in creation order.
 */
export function buildMachine<AS extends AddressSpaceShape>(spec: MachineSpec, host: MachineHost<AS>): BuiltMachine<AS> {
  const regions = new Map<string, MemoryRegion>();
  const warnings: string[] = [];
  const ioRoots = new Set(spec.addressSpaces.filter((a) => a.name === "I/O").map((a) => a.root));
  host.begin();
  try {
    // Alias targets before their aliases; an alias chain is at most MAX_NESTING long (the loader's height check).
    const create = (s: RegionSpec): MemoryRegion => {
      const existing = regions.get(s.id);
      if (existing !== undefined) return existing;
      const target = s.alias === null ? null : create(spec.byId.get(s.alias)!);
      let mr: MemoryRegion;
      try {
        mr = new Region(host, initOf(s, target, ioRoots.has(s.id)));
      } catch (error) {
        throw atPath(s, error);
      }
      regions.set(s.id, mr);
      return mr;
    };
    for (const s of spec.byId.values()) create(s);
    for (const s of spec.byId.values()) {
      const mr = regions.get(s.id)!;
      let child: RegionSpec | null = null;
      try {
        if (s.readonly !== mr.readonly) mr.setReadonly(s.readonly);
        if (s.nonvolatile) mr.setNonvolatile(true);
        if (s.kind === "romd" && !s.romdMode) mr.setRomdMode(false);
        for (let i = 0; i < s.log.length; i++) {
          const client = s.log[i]!;
          if (client === "vga") mr.setLog(true, "vga");
          else {
            warnings.push(
              `${s.path}.log[${i}]: "${client}" is a global dirty-log client in QEMU 7.2 (the system adds it: ` +
                `${client === "code" ? "TCG" : "migration"}); it is not kept per region`,
            );
          }
        }
        for (child of s.subregions) mr.addSubregionOverlap(child.addr, regions.get(child.id)!, child.priority);
        child = null;
        if (!s.enabled) mr.setEnabled(false);
      } catch (error) {
        throw atPath(child ?? s, error);
      }
    }
  } finally {
    host.commit();
  }
  // After the commit: a space created inside the transaction gets a view rendered then, which the
  // commit renders again (a machine of 20 000 RAM regions rendered twice); created now, each root
  // renders once, as the commit would have left it.
  const addressSpaces = spec.addressSpaces.map((a) => {
    try {
      return host.createAddressSpace(a.name, regions.get(a.root)!);
    } catch (error) {
      throw atPath(a, error);
    }
  });
  const mtreeOrder = spec.mtreeOrder.map((id) => regions.get(id)!);
  return { name: spec.name, accel: spec.accel, host, addressSpaces, regions, mtreeOrder, warnings };
}

function initOf(s: RegionSpec, target: MemoryRegion | null, ioRoot: boolean): MemoryRegionInit {
  const { name, size, owner, addr, priority } = s;
  switch (s.kind) {
    case "alias":
      return { name, size, owner, addr, priority, kind: "alias", target: target!, offset: s.aliasOffset };
    case "romd":
      return { name, size, owner, addr, priority, kind: "rom-device", ops: NO_OPS };
    case "io":
      return { name, size, owner, addr, priority, kind: "io", ops: ioRoot ? UNASSIGNED_IO_OPS : null };
    default:
      return { name, size, owner, addr, priority, kind: s.kind };
  }
}

/**
 * Region-tree errors that validation did not foresee still name the file's path (read from `place` only then: a
 * path string per region of a large file cost memory for nothing).
 */
function atPath(place: { readonly path: string }, error: unknown): unknown {
  if (error instanceof MemtopoError && !(error instanceof MachineFormatError)) {
    return new MachineFormatError(error.code, error.message, { path: place.path, cause: error });
  }
  return error;
}
