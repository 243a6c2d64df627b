#!/usr/bin/env node
// Builds the addon from source into build/Release (which node-gyp-build prefers to prebuilds/).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runNodeGyp } from "./node-gyp.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.exit(runNodeGyp(["rebuild"], root));
