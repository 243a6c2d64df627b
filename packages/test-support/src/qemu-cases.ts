import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { casesDir } from "@memtopo/fixtures";

export { casesDir };

/** Every QEMU 7.2 capture of `@memtopo/fixtures`, by folder name, sorted. */
export function caseNames(): string[] {
  return readdirSync(casesDir).sort();
}

/** One file of a capture (`machine.json`, `mtree-D.txt`, `mtree-f.txt`, …) as text. */
export function readCase(name: string, file: string): string {
  return readFileSync(path.join(casesDir, name, file), "utf8");
}
