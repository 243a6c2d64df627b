import { defineConfig, type Options } from "tsup";

/**
 * Every package builds the same way: ESM only, bundled declarations, source maps,
 * Node 20 syntax. Packages differ only in their entry points.
 */
export function packageBuildConfig(entry: Options["entry"] = ["src/index.ts"]) {
  return defineConfig({ entry, format: ["esm"], dts: true, clean: true, sourcemap: true, target: "node20" });
}
