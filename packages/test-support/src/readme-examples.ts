import fs from "node:fs";
import path from "node:path";
import { format } from "node:util";

/**
 * Runs one TypeScript snippet as a module written into `dir` (so bare package imports
 * resolve from that package's dependencies, as in a user's project) and returns what it
 * printed with console.log, one line per call.
 */
export async function runSnippet(code: string, dir: string, name: string): Promise<string> {
  const file = path.join(dir, `.readme-example-${name}.ts`);
  fs.writeFileSync(file, code);
  const lines: string[] = [];
  const original = console.log;
  console.log = (...args: unknown[]) => lines.push(format(...args));
  try {
    await import(/* @vite-ignore */ `${file}?t=${Date.now()}`);
  } finally {
    console.log = original;
    fs.rmSync(file, { force: true });
  }
  return lines.join("\n");
}

/**
 * Runs every ```ts block of a README and returns what each printed, so a test can hold
 * the README's claims to the truth; see {@link runSnippet} for where it runs.
 */
export async function runReadmeExamples(readme: string, runIn = path.dirname(readme)): Promise<string[]> {
  const text = fs.readFileSync(readme, "utf8");
  const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const outputs: string[] = [];
  for (const [i, code] of blocks.entries()) outputs.push(await runSnippet(code, runIn, String(i)));
  return outputs;
}
