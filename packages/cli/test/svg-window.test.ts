import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { casesDir } from "@memtopo/fixtures";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";
import { dumpDom, findChromium, screenshot } from "./svg-chromium.js";
import { decodePng } from "./svg-png.js";

// The map as a reader sees it: it fits the window (scaled down, never scrolled sideways), neighbouring 45° labels
// never touch, the title falls back to the file name, and priorities read as `info mtree -f` prints them.

const cases = casesDir;
const pcCase = path.join(cases, "x86-pc-ran-kvm/machine.json");
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-svg-window-"));
const chromium = findChromium();
afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

/** 300 one-byte ports with long names side by side: the densest lane a machine can have. */
function densePorts(): string {
  const file = path.join(outDir, "dense.json");
  const ports = Array.from({ length: 300 }, (_, i) => ({
    id: `p${i}`,
    name: `port-with-a-long-name-${i}`,
    kind: "io",
    size: "0x1",
    addr: `0x${(0x100 + i).toString(16)}`,
  }));
  const machine = {
    format: "memtopo-machine/1",
    addressSpaces: [{ name: "I/O", root: "io" }],
    regions: [{ id: "io", name: "io", kind: "container", size: "0x10000", subregions: ports }],
  };
  fs.writeFileSync(file, JSON.stringify(machine));
  return file;
}

interface Label {
  readonly x: number;
  readonly y: number;
}

/** The anchors of the rotated labels of one kind (-45: range names above the bars, 45: addresses below). */
function rotatedLabels(svg: string, angle: 45 | -45): Label[] {
  const re = new RegExp(
    `<text transform="translate\\(([-\\d.]+),([-\\d.]+)\\) rotate\\(${angle}\\)" font-size="(\\d+)"`,
    "g",
  );
  return [...svg.matchAll(re)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }));
}

describe("labels of neighbouring ranges never overlap", () => {
  for (const [name, file] of [
    ["the pc machine", pcCase],
    ["300 adjacent one-byte ports", densePorts()],
  ] as const) {
    it(name, () => {
      const r = runCli(["svg", file]);
      expect(r.status).toBe(0);
      for (const [angle, font] of [
        [-45, 11],
        [45, 10],
      ] as const) {
        const labels = rotatedLabels(r.stdout, angle);
        expect(labels.length).toBeGreaterThan(10);
        // Two parallel 45° lines through anchors dx apart on one row are dx·sin 45° apart: more than a line of text.
        const rows = new Map<number, number[]>();
        for (const l of labels) rows.set(l.y, [...(rows.get(l.y) ?? []), l.x]);
        for (const row of rows.values()) {
          const xs = row.sort((a, b) => a - b);
          for (let i = 1; i < xs.length; i++) {
            expect((xs[i]! - xs[i - 1]!) * Math.SQRT1_2, `labels at x=${xs[i - 1]} and x=${xs[i]}`).toBeGreaterThan(
              font * 1.2,
            );
          }
        }
      }
    });
  }
});

describe.skipIf("missing" in chromium)("Chromium: the map fits the window, SVG and HTML", () => {
  const browser = (chromium as { path: string }).path;
  const measure = (file: string, html: boolean, width: number): { scroll: number; client: number } => {
    // A test-only script measures the page after layout; the document's own width is never wider than its window.
    // The page scrolls, or a box inside it (the HTML's <main>) does: the wider of the two counts.
    const script =
      "<script>const boxes = [document.scrollingElement || document.documentElement, document.querySelector('main')]" +
      ".filter(Boolean); const over = boxes.reduce((w, b) => Math.max(w, b.scrollWidth - b.clientWidth), 0);" +
      'document.documentElement.setAttribute("data-fit", (over > 0 ? over : 0) + "/0");</script>';
    const text = fs.readFileSync(file, "utf8");
    const probe = path.join(outDir, `probe-${width}${html ? ".html" : ".svg"}`);
    fs.writeFileSync(
      probe,
      html ? text.replace("</body>", `${script}</body>`) : text.replace("</svg>", `${script}</svg>`),
    );
    const m = /data-fit="(\d+)\/(\d+)"/.exec(dumpDom(browser, probe, { width, height: 900 }));
    expect(m, "the measuring script ran").not.toBeNull();
    return { scroll: Number(m![1]), client: Number(m![2]) };
  };

  // The pc map at both widths; the dense one (the widest lane there can be) where it matters, at 1280.
  for (const width of [1280, 1920]) {
    for (const [name, file] of [
      ["pc", pcCase],
      ...(width === 1280 ? ([["dense", densePorts()]] as const) : []),
    ] as const) {
      for (const html of [false, true]) {
        it(`${name} ${html ? "HTML" : "SVG"} at ${width} px: no sideways scrolling, nothing cut at the right`, () => {
          const out = path.join(outDir, `${name}-${width}.${html ? "html" : "svg"}`);
          expect(runCli(["svg", file, ...(html ? ["--html"] : []), "-o", out]).status).toBe(0);
          const { scroll, client } = measure(out, html, width);
          expect(scroll).toBeLessThanOrEqual(client);

          // The screenshot: the right-most column of ink is inside the window, with the white margin after it.
          const image = decodePng(screenshot(browser, out, width, 900));
          let right = 0;
          for (let y = 0; y < image.height; y++) {
            for (let x = image.width - 1; x > right; x--) {
              const i = (y * image.width + x) * 4;
              const px = image.pixels;
              if (px[i]! < 200 || px[i + 1]! < 200 || px[i + 2]! < 200) {
                right = x;
                break;
              }
            }
          }
          expect(right).toBeGreaterThan(width / 3);
          expect(right).toBeLessThan(width - 8);
        });
      }
    }
  }
});

describe("title and priority labels", () => {
  it("without --title or a machine name, the picture is titled with the file name", () => {
    const file = path.join(outDir, "my-board.json");
    const json = JSON.parse(fs.readFileSync(pcCase, "utf8"));
    delete json.name;
    fs.writeFileSync(file, JSON.stringify(json));
    expect(runCli(["svg", file]).stdout).toContain("<title>my-board</title>");
    expect(runCli(["svg", file, "--title", "given"]).stdout).toContain("<title>given</title>");
  });

  it("a range is labelled with the priority `info mtree -f` prints for it (its own region's), not the alias's", () => {
    const svg = runCli(["svg", pcCase]).stdout;
    const flat = fs.readFileSync(path.join(cases, "x86-pc-ran-kvm/mtree-f.txt"), "utf8");
    // -f: "00000000000c0000-00000000000cafff (prio 0, rom): pc.ram @…" though the pam-rom alias above it has prio 1.
    expect(flat).toContain("00000000000c0000-00000000000cafff (prio 0, rom): pc.ram @00000000000c0000");
    expect(svg).toContain(">pc.ram ⇐ pam-rom</text>");
    // -f: "00000000fd000000-00000000fdffffff (prio 1, ram): vga.vram".
    expect(svg).toContain(">vga.vram (prio 1)</text>");
  });
});
