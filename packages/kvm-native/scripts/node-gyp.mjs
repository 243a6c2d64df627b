// Runs node-gyp with --nodedir pointing at the running Node's own headers, so that
// no header tarball is downloaded (without it node-gyp goes online).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

/** The prefix holding include/node/node_api.h for this Node, or undefined. */
export function nodeDir() {
  const prefix = path.resolve(process.execPath, "../..");
  return fs.existsSync(path.join(prefix, "include/node/node_api.h")) ? prefix : undefined;
}

/** node-gyp's CLI: our devDependency, else the one npm bundles, else PATH. */
function nodeGypCommand() {
  try {
    return [process.execPath, require.resolve("node-gyp/bin/node-gyp.js")];
  } catch {
    const bundled = process.env.npm_config_node_gyp;
    if (bundled && fs.existsSync(bundled)) return [process.execPath, bundled];
    return ["node-gyp"];
  }
}

export function runNodeGyp(args, cwd) {
  const [cmd, ...pre] = nodeGypCommand();
  const dir = nodeDir();
  const all = [...pre, ...args, ...(dir ? [`--nodedir=${dir}`] : [])];
  const result = spawnSync(cmd, all, { cwd, stdio: "inherit" });
  return result.status ?? 1;
}
