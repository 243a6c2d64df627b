import { main } from "../dist/index.js";

/**
 * `memtopo svg` of a machine whose `memory` view has `n` ranges (RAM regions with a gap after every fourth, so
 * the picture has holes to draw), at 10× steps: the command as a user runs it, from the machine file's text to
 * the SVG text (file reading and writing replaced by memory). `growth` is the time ratio to the previous step.
 */
let previous = null;

function machineText(n) {
  const subregions = [];
  for (let i = 0, addr = 0; i < n; i++) {
    subregions.push({ id: `r${i}`, name: `ram${i}`, kind: "ram", size: "0x1000", addr: `0x${addr.toString(16)}` });
    addr += i % 4 === 3 ? 0x2000 : 0x1000;
  }
  const system = { id: "system", name: "system", kind: "container", size: "0x100000000000", subregions };
  return JSON.stringify({
    format: "memtopo-machine/1",
    addressSpaces: [{ name: "memory", root: "system" }],
    regions: [system],
  });
}

export const cases = [
  {
    name: "svg",
    params: [200, 2_000, 20_000],
    samples: 4,
    setup(n) {
      const text = machineText(n);
      let bytes = 0;
      const ctx = {
        color: false,
        stdout() {},
        stderr(message) {
          throw new Error(message);
        },
        readText: async () => text,
        writeText: async (_path, svg) => {
          bytes = svg.length;
        },
      };
      return {
        fn: async () => {
          const code = await main(["svg", "machine.json", "-o", "map.svg"], ctx);
          if (code !== 0) throw new Error(`memtopo svg exited ${code}`);
          return bytes;
        },
        extra: { ranges: n },
      };
    },
    report(us, n) {
      const growth = previous === null || previous.n * 10 !== n ? "" : Math.round((us / previous.us) * 10) / 10;
      previous = { n, us };
      return { ms: Math.round(us / 10) / 100, growth };
    },
  },
];
