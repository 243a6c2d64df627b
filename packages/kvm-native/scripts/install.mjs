#!/usr/bin/env node
// Install hook: use the prebuilt binary when it loads on this machine, otherwise
// build from source. With install scripts blocked this never runs, and the
// prebuild shipped in prebuilds/ is what node-gyp-build loads.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runNodeGyp } from "./node-gyp.mjs";

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

if (process.platform !== "linux") {
  console.log("@memtopo/kvm-native: not Linux, nothing to build (probe() will say 'not-linux')");
  process.exit(0);
}
try {
  require("node-gyp-build")(root);
  process.exit(0);
} catch (error) {
  console.log(`@memtopo/kvm-native: no loadable binary (${error.message.split("\n")[0]}), building from source`);
}
process.exit(runNodeGyp(["rebuild"], root));
