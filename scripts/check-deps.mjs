#!/usr/bin/env node
// Every package declares exactly what it imports: a package imported by src/ is in `dependencies` (or
// `peerDependencies`), one imported only by tests, benches, scripts or config is at least a devDependency, and
// every runtime dependency is imported by src/ (or named by binding.gyp, for a native addon's headers).
// Prints one line per problem and exits 1 when there is any.
//
//   node scripts/check-deps.mjs
import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BUILTIN = new Set(builtinModules);
const SOURCE = /\.(?:[cm]?[jt]s|tsx)$/;
// import/export … from "x", import "x", import("x"), require("x"), require.resolve("x"), vi.mock("x")
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire(?:\.resolve)?\s*\(\s*|\bimport\s+)["']([^"'\n]+)["']/g;

/** The files under `dir` (recursively, without node_modules, dist or build), iteratively. */
function files(dir) {
  const out = [];
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop();
    if (!fs.existsSync(d)) continue;
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      if (["node_modules", "dist", "build", "prebuilds"].includes(entry.name)) continue;
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) stack.push(p);
      else if (SOURCE.test(entry.name)) out.push(p);
    }
  }
  return out;
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`), or null for a relative or builtin one. */
export function packageOf(specifier) {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) return null;
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  return BUILTIN.has(name) ? null : name;
}

function importsOf(fileList) {
  const found = new Map();
  for (const file of fileList) {
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(SPECIFIER)) {
      const name = packageOf(m[1]);
      if (name !== null && !found.has(name)) found.set(name, file);
    }
  }
  return found;
}

const rootDev = new Set(
  Object.keys(JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).devDependencies),
);
const problems = [];
for (const dirName of fs.readdirSync(path.join(root, "packages")).sort()) {
  const dir = path.join(root, "packages", dirName);
  const manifestPath = path.join(dir, "package.json");
  if (!fs.existsSync(manifestPath)) continue;
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
  const runtime = new Set([
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
  ]);
  const dev = new Set(Object.keys(manifest.devDependencies ?? {}));
  const self = manifest.name;

  const srcImports = importsOf(files(path.join(dir, "src")));
  const otherFiles = fs
    .readdirSync(dir)
    .filter((d) => d !== "src")
    .flatMap((d) => {
      const p = path.join(dir, d);
      return fs.statSync(p).isDirectory() ? files(p) : SOURCE.test(d) ? [p] : [];
    });
  const otherImports = importsOf(otherFiles);

  for (const [name, file] of srcImports) {
    if (name === self || runtime.has(name)) continue;
    problems.push(`${self}: ${path.relative(root, file)} imports ${name}, which is not in dependencies`);
  }
  for (const [name, file] of otherImports) {
    if (name === self || runtime.has(name) || dev.has(name) || srcImports.has(name)) continue;
    // Tools every package gets from the workspace root (vitest, fast-check, tsup, ...), not published with it.
    if (rootDev.has(name)) continue;
    problems.push(`${self}: ${path.relative(root, file)} imports ${name}, which it does not declare`);
  }
  const gyp = fs.existsSync(path.join(dir, "binding.gyp"))
    ? fs.readFileSync(path.join(dir, "binding.gyp"), "utf8")
    : "";
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    if (srcImports.has(name) || gyp.includes(`'${name}'`) || gyp.includes(`"${name}"`) || gyp.includes(`('${name}')`)) {
      continue;
    }
    problems.push(`${self}: declares ${name} in dependencies but src/ never imports it`);
  }
}

for (const p of problems) console.log(p);
console.log(
  problems.length === 0
    ? "check-deps: every package declares exactly what it imports"
    : `check-deps: ${problems.length} problem(s)`,
);
process.exit(problems.length === 0 ? 0 : 1);
