import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { caseFile } from "@memtopo/fixtures";
import { afterAll, describe, expect, it } from "vitest";
import { KIND_STYLE } from "../src/svg/index.js";
import { runCli } from "./run-cli.js";
import { dumpDom, findChromium, screenshot } from "./svg-chromium.js";
import { countColour, decodePng, inkedPixels } from "./svg-png.js";

const pcCase = caseFile("x86-pc-ran-kvm", "machine.json");
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-svg-test-"));
const chromium = findChromium();
if ("missing" in chromium) console.warn(`[cli] picture rendering tests skipped: ${chromium.missing}`);

afterAll(() => {
  // Kept when asked, to look at the pictures.
  if (process.env.MEMTOPO_KEEP_PICTURES === undefined) fs.rmSync(outDir, { recursive: true, force: true });
});

function svgSize(svg: string): { width: number; height: number } {
  const m = /^<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg);
  if (m === null) throw new Error("no size on the <svg> element");
  return { width: Number(m[1]), height: Number(m[2]) };
}

describe("memtopo svg (built binary)", () => {
  it("--help documents -o and --html", () => {
    const r = runCli(["svg", "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("--output <file>");
    expect(r.stdout).toContain("--html");
  });

  it("writes the SVG to standard output by default", () => {
    const r = runCli(["svg", pcCase]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout.startsWith("<svg ")).toBe(true);
    expect(r.stdout.trimEnd().endsWith("</svg>")).toBe(true);
  });

  it("reads the machine from standard input with '-'", () => {
    const r = runCli(["svg", "-", "--title", "from stdin"], { input: fs.readFileSync(pcCase, "utf8") });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("<title>from stdin</title>");
  });

  it("a missing file fails with exit 1 and says why on stderr", () => {
    const r = runCli(["svg", path.join(outDir, "nope.json"), "-o", path.join(outDir, "x.svg")]);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/ENOENT/);
    expect(fs.existsSync(path.join(outDir, "x.svg"))).toBe(false);
  });

  it("a file that is not a machine fails with exit 1 and the JSON path of the problem", () => {
    const bad = path.join(outDir, "bad.json");
    fs.writeFileSync(bad, JSON.stringify({ format: "memtopo-machine/1", addressSpaces: [], regions: [{ id: 1 }] }));
    const r = runCli(["svg", bad]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^memtopo: error \[E_MACHINE_[A-Z_]+\]: regions\[0\]/);
    const notJson = path.join(outDir, "not.json");
    fs.writeFileSync(notJson, "{");
    expect(runCli(["svg", notJson]).stderr).toContain("E_MACHINE_JSON");
  });

  it("without a machine file it is a usage error (exit 2)", () => {
    const r = runCli(["svg"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("svg <machine>");
  });

  it.skipIf("missing" in chromium)(
    "Chromium renders the SVG: right size, not blank, every kind's colour present",
    () => {
      const file = path.join(outDir, "pc.svg");
      const r = runCli(["svg", pcCase, "-o", file]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe("");
      const { width, height } = svgSize(fs.readFileSync(file, "utf8"));
      const image = decodePng(screenshot((chromium as { path: string }).path, file, width, height));
      expect([image.width, image.height]).toEqual([width, height]);
      expect(inkedPixels(image) / (width * height)).toBeGreaterThan(0.05);
      // The pc case has plain RAM (vga.vram), ROM (pc.bios) and I/O ranges, and unassigned stretches.
      for (const kind of ["ram", "rom", "i/o"] as const) {
        expect(countColour(image, KIND_STYLE[kind].fill), kind).toBeGreaterThan(300);
      }
      expect(countColour(image, "#f1f3f5"), "collapsed gaps").toBeGreaterThan(300);
    },
  );

  it.skipIf("missing" in chromium)("Chromium renders the HTML page with the same picture and hover details", () => {
    const file = path.join(outDir, "pc.html");
    const r = runCli(["svg", pcCase, "--html", "-o", file]);
    expect(r.status).toBe(0);
    const html = fs.readFileSync(file, "utf8");
    expect(html).toMatch(/data-tip="pc\.bios \(rom\)/);
    const { width, height } = svgSize(html.slice(html.indexOf("<svg ")));
    const image = decodePng(screenshot((chromium as { path: string }).path, file, width + 16, height + 16));
    expect(inkedPixels(image) / (image.width * image.height)).toBeGreaterThan(0.05);
    for (const kind of ["ram", "rom", "i/o"] as const) {
      expect(countColour(image, KIND_STYLE[kind].fill), kind).toBeGreaterThan(300);
    }
  });

  it.skipIf("missing" in chromium)(
    "in the HTML page, pointing at a range shows its name and path in the tooltip",
    () => {
      const file = path.join(outDir, "hover.html");
      expect(runCli(["svg", pcCase, "--html", "-o", file]).status).toBe(0);
      // A test-only script points at the pc.bios range the way a mouse would, after the page's own script ran.
      const probe = `<script>
      const g = [...document.querySelectorAll("g.range")].find((e) => e.dataset.tip.startsWith("pc.bios (rom)\\n0xfffc0000"));
      g.dispatchEvent(new MouseEvent("mousemove", { clientX: 40, clientY: 40, bubbles: true }));
    </script>`;
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("</body>", `${probe}</body>`));
      const dom = dumpDom((chromium as { path: string }).path, file);
      const tip = /<div id="tip" role="tooltip" style="([^"]*)">([^<]*)<\/div>/.exec(dom);
      expect(tip, "the tooltip element").not.toBeNull();
      expect(tip![1]).toContain("display: block");
      expect(tip![2]).toContain("pc.bios (rom)");
      expect(tip![2]).toContain("path: system ▸ pci prio -1 ▸ pc.bios");
    },
  );
});
