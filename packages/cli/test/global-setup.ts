import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * CLI tests run the built binary as a user would. Under turbo (CI, `pnpm test`) the
 * build already ran; a direct `vitest run` builds the CLI and its dependencies first.
 */
export default function setup(): void {
  if (process.env.TURBO_HASH !== undefined) return;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
  execFileSync("npx", ["turbo", "run", "build", "--filter=@memtopo/cli...", "--output-logs=errors-only"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
  });
}
