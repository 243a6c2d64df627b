#!/usr/bin/env node
// Produces prebuilds/linux-x64/*.node (committed, so installs with blocked scripts work).
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { nodeDir } from "./node-gyp.mjs";

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dir = nodeDir();
const args = [require.resolve("prebuildify/bin.js"), "--napi", "--strip", "--target", `node@${process.versions.node}`];
const env = { ...process.env, ...(dir ? { npm_config_nodedir: dir } : {}) };
const result = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit", env });
process.exit(result.status ?? 1);
