import fc from "fast-check";

/** A region that covers all of a 64-bit address space (region-tree's `SIZE_2_64`; this package sits below it). */
const SIZE_2_64 = 1n << 64n;

// The `memtopo-machine/1` JSON this generator writes (packages/fixtures/FORMAT.md), as far as it writes it. The
// names are memtopo's; they are spelled out here because memtopo's own tests use this package, which therefore
// cannot depend on memtopo. A generated machine is assignable to memtopo's `MachineJson`.
type MachineRegionKind = "container" | "ram" | "rom" | "romd" | "io" | "ram-device" | "alias";

interface MachineRegionJson {
  id: string;
  name: string | null;
  kind: MachineRegionKind;
  size: string;
  addr?: string;
  priority?: number;
  enabled?: boolean;
  readonly?: boolean;
  nonvolatile?: boolean;
  romdMode?: boolean;
  alias?: string;
  aliasOffset?: string;
  subregions?: MachineRegionJson[];
}

export interface MachineJson {
  format: "memtopo-machine/1";
  name?: string;
  accel?: "kvm" | "tcg" | "none";
  addressSpaces: { name: string; root: string }[];
  regions: MachineRegionJson[];
}

/** One region of a random machine, decided before the machine is assembled. */
interface Step {
  kind: MachineRegionKind;
  name: number;
  size: bigint;
  /** Index into the regions so far (plus one for "no container"). */
  parent: number;
  addr: bigint;
  priority: number;
  target: number;
  aliasOffset: bigint;
  enabled: boolean;
  readonly: boolean;
  nonvolatile: boolean;
  romdOff: boolean;
}

// A small pool: names repeat, as QEMU's do.
const NAMES = ["ram", "rom", "dev", "bus", "win", "pci", "x"];
const SPACE_NAMES = ["memory", "dma", "dma", "I/O"];

const step = (sizes: fc.Arbitrary<bigint>): fc.Arbitrary<Step> =>
  fc.record({
    kind: fc.constantFrom<MachineRegionKind>(
      "container",
      "container",
      "io",
      "io",
      "ram",
      "rom",
      "romd",
      "ram-device",
      "alias",
      "alias",
    ),
    name: fc.nat({ max: NAMES.length - 1 }),
    size: sizes,
    parent: fc.nat(),
    addr: fc.bigInt({ min: 0n, max: 0x300n }).map((x) => x * 0x10n),
    priority: fc.integer({ min: -1, max: 2 }),
    target: fc.nat(),
    aliasOffset: fc.bigInt({ min: 0n, max: 0x100n }).map((x) => x * 0x10n),
    enabled: fc.nat({ max: 9 }).map((n) => n > 1),
    readonly: fc.nat({ max: 9 }).map((n) => n === 0),
    nonvolatile: fc.nat({ max: 19 }).map((n) => n === 0),
    romdOff: fc.boolean(),
  });

/**
 * Random `memtopo-machine/1` documents: a 2^64 `system` container, then regions placed
 * under earlier ones or left parentless (alias targets, roots of other spaces), aliases
 * to earlier regions (never closing a cycle), overlaps, equal priorities, disabled and
 * read-only regions, empty and 2^64 regions, repeated names; one to three spaces. With
 * `pointSizes: false` no region is 0 or 1 byte long (the sizes a `start-start` line leaves open);
 * with `uniqueNames` every region has a name of its own.
 */
export const machineArb = (options: { pointSizes?: boolean; uniqueNames?: boolean } = {}): fc.Arbitrary<MachineJson> =>
  fc
    .record({
      steps: fc.array(
        step(
          fc.oneof(
            fc.constantFrom(...(options.pointSizes === false ? [] : [0n, 1n]), 0x10n, 0x100n, 0x1000n, 0x3000n),
            fc.bigInt({ min: 2n, max: 0x2000n }),
            fc.constant(SIZE_2_64),
          ),
        ),
        { minLength: 1, maxLength: 14 },
      ),
      spaces: fc.array(fc.record({ name: fc.nat({ max: SPACE_NAMES.length - 1 }), root: fc.nat() }), {
        minLength: 1,
        maxLength: 3,
      }),
    })
    .map(({ steps, spaces }) => assemble(steps, spaces, options.uniqueNames === true));

function assemble(
  steps: readonly Step[],
  spaces: readonly { name: number; root: number }[],
  uniqueNames: boolean,
): MachineJson {
  const root: MachineRegionJson = { id: "r0", name: "system", kind: "container", size: "0x10000000000000000" };
  const regions: MachineRegionJson[] = [root];
  const all: MachineRegionJson[] = [root];
  const sizes: bigint[] = [SIZE_2_64];
  const edges: number[][] = [[]];
  const reaches = (from: number, goal: number): boolean => {
    const stack = [from];
    const seen = new Set<number>();
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n === goal) return true;
      if (seen.has(n)) continue;
      seen.add(n);
      stack.push(...edges[n]!);
    }
    return false;
  };
  const hex = (n: bigint): string => `0x${n.toString(16)}`;
  steps.forEach((s, k) => {
    const i = k + 1;
    const parent = (s.parent % (i + 1)) - 1;
    let kind = s.kind;
    let size = s.size;
    const name = uniqueNames ? `${NAMES[s.name]!}${i}` : NAMES[s.name]!;
    const json: MachineRegionJson = { id: `r${i}`, name, kind, size: "" };
    if (kind === "alias") {
      const target = s.target % i;
      if (parent >= 0 && reaches(target, parent)) {
        kind = "io";
        json.kind = kind;
      } else {
        if (size > sizes[target]!) size = sizes[target]!;
        const room = sizes[target]! - size;
        json.alias = all[target]!.id;
        json.aliasOffset = hex(s.aliasOffset > room ? room : s.aliasOffset);
        edges.push([target]);
      }
    }
    if (kind !== "alias") edges.push([]);
    // RAM-backed regions stop a page short of 2^64 (a RAM block's length is 64-bit).
    if (size === SIZE_2_64 && kind !== "container" && kind !== "io" && kind !== "alias") size = SIZE_2_64 - 0x1000n;
    json.size = hex(size);
    if (parent >= 0) {
      json.addr = hex(size + s.addr > SIZE_2_64 ? 0n : s.addr);
      json.priority = s.priority;
      const p = all[parent]!;
      p.subregions = [...(p.subregions ?? []), json];
      edges[parent]!.push(i);
    } else {
      if (s.priority !== 0) json.priority = s.priority;
      if (s.addr !== 0n && s.romdOff) json.addr = hex(s.addr);
      regions.push(json);
    }
    if (!s.enabled) json.enabled = false;
    if (s.readonly && kind !== "rom") json.readonly = true;
    if (s.nonvolatile) json.nonvolatile = true;
    if (kind === "romd" && s.romdOff) json.romdMode = false;
    sizes.push(size);
    all.push(json);
  });
  const tops = regions.map((r) => r.id);
  return {
    format: "memtopo-machine/1",
    name: "random",
    accel: "tcg",
    addressSpaces: spaces.map((a) => ({ name: SPACE_NAMES[a.name]!, root: tops[a.root % tops.length]! })),
    regions,
  };
}
