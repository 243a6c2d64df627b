// Builds the named workspace packages and their dependencies through turbo (cheap when
// its cache hits), printing nothing unless the build fails.
import { spawnSync } from "node:child_process";

export function quietBuild(root, filters) {
  const build = spawnSync(
    "turbo",
    ["run", "build", ...filters.map((f) => `--filter=${f}...`), "--output-logs=errors-only"],
    { cwd: root, encoding: "utf8", env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } },
  );
  if (build.status !== 0) {
    process.stderr.write(build.stdout ?? "");
    process.stderr.write(build.stderr ?? "");
    process.stderr.write("building failed\n");
    process.exit(1);
  }
}
