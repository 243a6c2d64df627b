import { importQemu, printMtree, printMtreeFlat } from "@memtopo/qemu-text";
import { loadMachine } from "memtopo";

/**
 * Machines far larger than QEMU's own, at 10× steps (`growth` is the time ratio to the previous step: 10 is
 * linear, 100 quadratic):
 * - `import-qemu`: importQemu on a plain `info mtree` dump of `n` MB (address spaces of 1 000 RAM and I/O
 *   regions each, every one under its own root, as distinct buses are);
 * - `import-siblings`: importQemu of one root holding `n` equal-priority RAM regions (the list-order shape);
 * - `import-siblings-flat`: the same with its `info mtree -f` text (the flat hints' sibling order);
 * - `import-qemu-load`: loading the machine file that import wrote for that dump and printing it back;
 * - `mtree-spaces`: loading a machine file with `n` address spaces and printing its `info mtree`, QEMU's
 *   bus-master shape: every space's root is a container of its own holding a disabled alias of `system`.
 * `max_rss_mb` is the process's peak resident size after the case (run one case alone to read it as its own).
 */
const growth = new Map();

function report(name) {
  return (us, n, extra) => {
    const previous = growth.get(name);
    growth.set(name, { n, us });
    return {
      ms: Math.round(us / 10) / 100,
      growth: previous === undefined || previous.n * 10 !== n ? "" : Math.round((us / previous.us) * 10) / 10,
      max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      ...extra,
    };
  };
}

const hex = (v) => v.toString(16).padStart(16, "0");

/** A plain `info mtree` text of about `mb` megabytes. */
export function mtreeDump(mb) {
  const target = mb * 1e6;
  const blocks = [];
  let bytes = 0;
  let regions = 0;
  for (let k = 0; bytes < target; k++) {
    const lines = [`address-space: as${k}`, `  0000000000000000-ffffffffffffffff (prio 0, i/o): root${k}`];
    for (let i = 0; i < 1000; i++) {
      const start = BigInt(i) * 0x1000n;
      const kind = i % 4 === 3 ? "i/o" : "ram";
      lines.push(`    ${hex(start)}-${hex(start + 0xfffn)} (prio ${i % 3}, ${kind}): dev${k}.${i}`);
    }
    regions += 1001;
    const block = `${lines.join("\n")}\n\n`;
    bytes += block.length;
    blocks.push(block);
  }
  return { text: blocks.join(""), regions };
}

/** A plain `info mtree` text of one root holding `n` equal-priority RAM regions side by side. */
export function siblingsDump(n) {
  const lines = ["address-space: memory", "  0000000000000000-ffffffffffffffff (prio 0, i/o): system"];
  for (let i = 0; i < n; i++) {
    const start = BigInt(i) * 0x1000n;
    lines.push(`    ${hex(start)}-${hex(start + 0xfffn)} (prio 0, ram): r${i}`);
  }
  return `${lines.join("\n")}\n\n`;
}

/** A machine file of `n` address spaces over one `system` of 100 RAM regions. */
export function manySpaces(n) {
  const system = {
    id: "system",
    name: "system",
    kind: "container",
    size: "0x10000000000",
    subregions: Array.from({ length: 100 }, (_, i) => ({
      id: `ram${i}`,
      name: `ram${i}`,
      kind: "ram",
      size: "0x1000",
      addr: `0x${(i * 0x1000).toString(16)}`,
    })),
  };
  const regions = [system];
  const addressSpaces = [{ name: "memory", root: "system" }];
  for (let i = 0; i < n; i++) {
    regions.push({
      id: `bm${i}`,
      name: "bus master container",
      kind: "container",
      size: "0x10000000000",
      subregions: [
        {
          id: `bma${i}`,
          name: "bus master",
          kind: "alias",
          size: "0x10000000000",
          alias: "system",
          aliasOffset: "0x0",
          enabled: false,
        },
      ],
    });
    addressSpaces.push({ name: `dev${i}`, root: `bm${i}` });
  }
  return JSON.stringify({ format: "memtopo-machine/1", name: "many-spaces", addressSpaces, regions });
}

export const cases = [
  {
    name: "import-qemu",
    params: [1, 10, 100],
    samples: 2,
    setup(mb) {
      const { text, regions } = mtreeDump(mb);
      return {
        fn: () => importQemu({ tree: text }),
        extra: { text_mb: Math.round(text.length / 1e5) / 10, regions },
      };
    },
    report: report("import-qemu"),
  },
  {
    name: "import-siblings",
    params: [1_000, 10_000, 100_000],
    samples: 2,
    setup(n) {
      const text = siblingsDump(n);
      return { fn: () => importQemu({ tree: text }), extra: { text_mb: Math.round(text.length / 1e5) / 10 } };
    },
    report: report("import-siblings"),
  },
  {
    // The same with its `info mtree -f` text, whose pieces tell the importer which sibling won each overlap.
    name: "import-siblings-flat",
    params: [100, 1_000, 10_000],
    samples: 2,
    setup(n) {
      const tree = siblingsDump(n);
      const flat = printMtreeFlat(loadMachine(importQemu({ tree }).machine).addressSpaces);
      return { fn: () => importQemu({ tree, flat }), extra: { text_mb: Math.round(tree.length / 1e5) / 10 } };
    },
    report: report("import-siblings-flat"),
  },
  {
    // What import-qemu wrote, loaded back and printed: `prints_back` says whether the text came back byte for byte.
    name: "import-qemu-load",
    params: [1, 10, 100],
    samples: 2,
    setup(mb) {
      const { text, regions } = mtreeDump(mb);
      const json = JSON.stringify(importQemu({ tree: text }).machine);
      const extra = { json_mb: Math.round(json.length / 1e5) / 10, regions, prints_back: false };
      return {
        fn: () => {
          const machine = loadMachine(json);
          extra.prints_back = printMtree(machine.addressSpaces, { order: machine.mtreeOrder }) === text;
        },
        extra,
      };
    },
    report: report("import-qemu-load"),
  },
  {
    name: "mtree-spaces",
    params: [500, 5_000, 50_000],
    samples: 4,
    setup(n) {
      const json = manySpaces(n);
      return {
        fn: () => {
          const machine = loadMachine(json);
          return printMtree(machine.addressSpaces, { order: machine.mtreeOrder });
        },
        extra: { address_spaces: n + 1 },
      };
    },
    report: report("mtree-spaces"),
  },
];
