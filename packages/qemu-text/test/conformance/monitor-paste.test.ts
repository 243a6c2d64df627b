import fs from "node:fs";
import path from "node:path";
import { casesDir } from "@memtopo/fixtures";
import { describe, expect, it } from "vitest";
import { importQemu } from "../../src/index.js";

const cases = casesDir;

/** What a person copies from a QEMU monitor on a terminal: banner, prompts, CRLF, line-editor escapes. */
function asPastedFromMonitor(command: string, text: string): string {
  const session = [
    "QEMU 7.2.22 monitor - type 'help' for more information",
    `(qemu) \x1b[K${command}`,
    ...text.trimEnd().split("\n"),
    "(qemu) ",
  ];
  return session.join("\r\n");
}

describe("import-qemu accepts text pasted from a QEMU monitor", () => {
  for (const slug of fs.readdirSync(cases).sort()) {
    it(`${slug}: the pasted text gives the same machine as the clean text`, () => {
      const read = (f: string) => fs.readFileSync(path.join(cases, slug, f), "utf8");
      const clean = importQemu({ tree: read("mtree-D.txt"), flat: read("mtree-f.txt") });
      const pasted = importQemu({
        tree: asPastedFromMonitor("info mtree -D", read("mtree-D.txt")),
        flat: asPastedFromMonitor("info mtree -f", read("mtree-f.txt")),
      });
      expect(pasted.machine).toEqual(clean.machine);
      expect(pasted.warnings).toContain(
        "removed from the tree text: terminal escape sequences, CR line ends, the monitor banner, 2 monitor prompt line(s)",
      );
    });
  }
});
