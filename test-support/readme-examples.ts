import fs from "node:fs";
import path from "node:path";
import { format } from "node:util";

/**
 * Runs every ```ts block of a README as a module (vitest transpiles it) and returns
 * what each printed, so a test can hold the README's claims to the truth. The
 * snippets are written beside the README (or in `runIn`, a package whose dependencies
 * the example imports) so bare package imports resolve as in a user's project.
 */
export async function runReadmeExamples(readme: string, runIn = path.dirname(readme)): Promise<string[]> {
  const text = fs.readFileSync(readme, "utf8");
  const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const outputs: string[] = [];
  for (const [i, code] of blocks.entries()) {
    const file = path.join(runIn, `.readme-example-${i}.ts`);
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
    outputs.push(lines.join("\n"));
  }
  return outputs;
}
