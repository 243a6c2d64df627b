import { createHash } from "node:crypto";
import fs from "node:fs";
import { caseFile } from "@memtopo/fixtures";
import { loadMachine } from "memtopo";
import { describe, expect, it } from "vitest";
import { renderMemoryMapHtml, renderMemoryMapSvg } from "../src/svg/index.js";

// The drawing was restructured for speed (heights written once per row, one join for the document, escaping
// skipped for text that needs none); what it writes must not change by a byte. These are the SHA-256 digests
// (first 16 hex digits) of what it wrote before, at 0299f02. A deliberate change to the picture updates them.
const digest = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 16);

const FIXTURES: Record<string, [svg: string, html: string]> = {
  "x86-pc-ran-kvm": ["14e953d147c95318", "08e04a93d6e21e68"],
  "x86-q35-pcidevs-ran-kvm": ["9bc7f170163d28e2", "a345f468b990596f"],
  "x86-q35-iommu-held-tcg": ["822dbaf5d7a4c15c", "2dc36b02a10aed57"],
  "arm64-virt-a57-vnet-held": ["b71516ebb6c84d06", "5382bc5def7acd44"],
  "x86-isapc-held-tcg": ["6e5f867b91ee48cc", "1be2e9e887b4dca0"],
};

/** The benchmark's shape: n RAM regions under one root, a gap after every fourth (many rows of ranges and gaps). */
function ramRow(n: number): string {
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

describe("the picture, byte for byte", () => {
  for (const [name, [svg, html]] of Object.entries(FIXTURES)) {
    it(`${name}: the SVG and the HTML page are unchanged`, () => {
      const machine = loadMachine(fs.readFileSync(caseFile(name, "machine.json"), "utf8"));
      expect(digest(renderMemoryMapSvg(machine.addressSpaces, { title: name }))).toBe(svg);
      expect(digest(renderMemoryMapHtml(machine.addressSpaces, { title: name }))).toBe(html);
    });
  }

  it("2 000 RAM ranges with gaps, over many rows: unchanged", () => {
    const machine = loadMachine(ramRow(2000));
    expect(digest(renderMemoryMapSvg(machine.addressSpaces))).toBe("7265eb39d762b9e8");
  });
});
