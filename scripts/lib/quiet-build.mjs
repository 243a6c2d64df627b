// Builds the named workspace packages and their dependencies through turbo (cheap when
// its cache hits), printing nothing unless the build fails.
import { spawnSync } from "node:child_process";
import path from "node:path";

export function quietBuild(root, filters) {
  // The workspace's own turbo: `node scripts/…` outside pnpm has no node_modules/.bin on PATH.
  const build = spawnSync(
    path.join(root, "node_modules", ".bin", "turbo"),
    ["run", "build", ...filters.map((f) => `--filter=${f}...`), "--output-logs=errors-only"],
    {
      cwd: root,
      encoding: "utf8",
      // turbo finds the workspace through its package manager: the workspace's own pnpm, on PATH even when this
      // runs as a plain `node scripts/…` rather than through pnpm.
      env: {
        ...process.env,
        PATH: `${path.join(root, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}`,
        TURBO_TELEMETRY_DISABLED: "1",
      },
    },
  );
  if (build.status !== 0) {
    process.stderr.write(build.stdout ?? "");
    process.stderr.write(build.stderr ?? "");
    if (build.error !== undefined) process.stderr.write(`${build.error.message}\n`);
    process.stderr.write("building failed\n");
    // turbo finds the workspace through its package manager, which only a pnpm run puts on PATH.
    if (/package manager binary/.test(`${build.stdout}${build.stderr}`)) {
      process.stderr.write("run it through pnpm: npx -y pnpm@10.34.9 memtopo <args>\n");
    }
    process.exit(1);
  }
}
