import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MemoryRegion } from "@memtopo/region-tree";
import { FORGED_NAMES } from "@memtopo/test-support";
import { MemorySystem, saveMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { renderMemoryMapHtml, renderMemoryMapSvg } from "../src/svg/index.js";
import { runCli } from "./run-cli.js";
import { xmlProblem } from "./xml-well-formed.js";

// Whatever the names hold, the SVG is well-formed XML, the HTML page's picture too, and nothing the CLI
// prints carries a control character.

// biome-ignore lint/suspicious/noControlCharactersInRegex: what the test looks for.
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffe\uffff]/;

function forgedMachine() {
  const system = new MemorySystem();
  const root = new MemoryRegion(system, { kind: "container", name: FORGED_NAMES[2]!, size: 1n << 32n });
  FORGED_NAMES.forEach((name, i) => {
    const ram = new MemoryRegion(system, { kind: "ram", name, size: 0x1000n, owner: name });
    root.addSubregion(BigInt(i) * 0x10000n, ram);
    const alias = new MemoryRegion(system, { kind: "alias", name, target: ram, offset: 0n, size: 0x800n });
    root.addSubregionOverlap(BigInt(i) * 0x10000n + 0x800n, alias, 1);
  });
  const spaces = FORGED_NAMES.slice(0, 3).map((name) => system.createAddressSpace(name, root));
  return { system, spaces };
}

describe("pictures of regions with hostile names", () => {
  it("the SVG is well-formed XML (U+0007, U+000C, U+FFFE, lone surrogates, markup characters)", () => {
    const { spaces } = forgedMachine();
    const svg = renderMemoryMapSvg(spaces, { title: "title \u0007\ufffe <&>" });
    expect(xmlProblem(svg)).toBeNull();
    expect(svg).toContain("bell\\x07form\\x0cfeed");
  });

  it("the HTML page's picture is well-formed and its title holds no control character", () => {
    const { spaces } = forgedMachine();
    const html = renderMemoryMapHtml(spaces, { title: "t\u001b[2J" });
    const svg = html.slice(html.indexOf("<svg "), html.indexOf("</svg>") + "</svg>".length);
    expect(xmlProblem(svg)).toBeNull();
    expect(html).not.toMatch(CONTROL);
  });

  it("the checker itself rejects what it must", () => {
    expect(xmlProblem("<a>\u0007</a>")).toMatch(/U\+7/);
    expect(xmlProblem("<a>&</a>")).toMatch(/bare &/);
    expect(xmlProblem("<a><b></a>")).toMatch(/closes nothing/);
    expect(xmlProblem('<a x="<"/>')).toMatch(/bad tag/);
    expect(xmlProblem('<a x="1"><b/>text &amp; &#12;</a>')).toBeNull();
  });
});

describe("the CLI on a machine file with hostile names", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-forged-"));
  const file = path.join(dir, "forged.json");
  const { spaces } = forgedMachine();
  fs.writeFileSync(file, JSON.stringify(saveMachine({ accel: "tcg", addressSpaces: spaces })));

  it("mtree, mtree -f -D --owner, svg, svg --html and diff print no control character; svg is well-formed", () => {
    for (const args of [
      ["mtree"],
      ["mtree", "-f", "--owner"],
      ["mtree", "-D", "--owner"],
      ["svg"],
      ["svg", "--html"],
    ]) {
      const r = runCli([...args, file]);
      expect(r.status, args.join(" ")).toBe(0);
      expect(r.stdout).not.toMatch(CONTROL);
      if (args.join(" ") === "svg") expect(xmlProblem(r.stdout)).toBeNull();
    }
    const empty = path.join(dir, "empty.json");
    fs.writeFileSync(
      empty,
      JSON.stringify({ format: "memtopo-machine/1", accel: "tcg", addressSpaces: [], regions: [] }),
    );
    const diff = runCli(["diff", empty, file]);
    expect(diff.status).toBe(0);
    expect(diff.stdout).not.toMatch(CONTROL);
    expect(diff.stdout).toContain("clear\\x1b[2J\\x1b[Hmemtopo: ok");
  });

  it("import-qemu of the printed text round-trips the names; errors and usage messages are escaped", () => {
    const tree = runCli(["mtree", "-D", file]).stdout;
    const back = runCli(["import-qemu", "-"], { input: tree });
    expect(back.status).toBe(0);
    expect(back.stderr).not.toMatch(CONTROL);
    const names = JSON.stringify(JSON.parse(back.stdout));
    for (const name of FORGED_NAMES) expect(names).toContain(JSON.stringify(name).slice(1, -1));
    const usage = runCli(["\u001b[2Jfrob"]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toBe('memtopo: unknown command "\\x1b[2Jfrob"; see "memtopo --help"\n');
    const bad = runCli(["mtree", "-"], { input: '{"format":"memtopo-machine/1","\\u001b[2J":1}' });
    expect(bad.stderr).toMatch(/^memtopo: error \[E_MACHINE_FIELD\]: \\x1b\[2J: unknown field "\\x1b\[2J"\n$/);
  });
});
