import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// A broken exports map, a missing file in "files" or a d.ts that does not resolve
// only shows up outside the workspace: pack every package, install the tarballs into
// an empty project (install scripts blocked, as pnpm 10 does for dependencies) and use them.

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const packagesDir = path.join(repo, "packages");
const pnpm = ["-y", "pnpm@10.34.9"];

interface Packed {
  name: string;
  tarball: string;
}

let work: string;
let project: string;
let packed: Packed[];

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 240_000 });
}

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-consumer-"));
  const tarballs = path.join(work, "tarballs");
  fs.mkdirSync(tarballs);
  packed = fs
    .readdirSync(packagesDir)
    .filter((d) => fs.existsSync(path.join(packagesDir, d, "package.json")))
    // The shared test helpers are never published: they import vitest and fast-check, which no user installs.
    .filter((d) => d !== "test-support")
    .map((d) => {
      const dir = path.join(packagesDir, d);
      const { name } = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
      const out = sh("npx", [...pnpm, "pack", "--pack-destination", tarballs], dir)
        .trim()
        .split("\n")
        .pop()!;
      return { name, tarball: path.resolve(dir, out) };
    });
  project = path.join(work, "project");
  fs.mkdirSync(project);
  const files = Object.fromEntries(packed.map((p) => [p.name, `file:${p.tarball}`]));
  fs.writeFileSync(
    path.join(project, "package.json"),
    JSON.stringify({
      name: "consumer",
      private: true,
      type: "module",
      dependencies: files,
      pnpm: { overrides: files },
    }),
  );
  sh("npx", [...pnpm, "install", "--prefer-offline", "--config.ignore-scripts=true"], project);
}, 300_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("each package installed from its tarball", () => {
  it("imports from ESM and exposes its documented entry points", () => {
    const script = `
      const checks = {
        "@memtopo/region-tree": ["MemoryRegion", "StandaloneHost", "MemtopoError"],
        "@memtopo/flatview": ["renderFlatView", "FlatView"],
        "@memtopo/listener-bus": ["sectionFromFlatRange"],
        "@memtopo/kvm": ["KvmError", "KVM_CAP"],
        "@memtopo/qemu-text": ["importQemu", "printMtree", "printMtreeFlat"],
      };
      const out = {};
      for (const name of ${JSON.stringify(["@memtopo/region-tree", "@memtopo/flatview", "@memtopo/listener-bus", "@memtopo/ioeventfd", "@memtopo/kvm", "@memtopo/kvm-mock", "@memtopo/kvm-native", "memtopo", "@memtopo/qemu-text", "@memtopo/cli"])}) {
        const mod = await import(name);
        out[name] = Object.keys(mod).sort();
        for (const key of checks[name] ?? []) if (!(key in mod)) throw new Error(name + " lacks " + key);
      }
      console.log(JSON.stringify(out));
    `;
    fs.writeFileSync(path.join(project, "smoke.mjs"), script);
    const exports = JSON.parse(sh(process.execPath, ["smoke.mjs"], project));
    expect(Object.keys(exports)).toHaveLength(10);
    for (const [name, keys] of Object.entries(exports)) {
      expect(keys, `${name} exports something`).not.toHaveLength(0);
    }
  });

  it("type-checks under node16 module resolution with skipLibCheck off", () => {
    const imports = packed.map((p, i) => `import * as m${i} from "${p.name}";\nvoid m${i};`).join("\n");
    fs.writeFileSync(path.join(project, "smoke.ts"), `${imports}\nexport {};\n`);
    fs.writeFileSync(
      path.join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "node16",
          moduleResolution: "node16",
          target: "ES2022",
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ["node"],
          typeRoots: [path.join(repo, "node_modules/@types")],
        },
        files: ["smoke.ts"],
      }),
    );
    const tsc = path.join(repo, "node_modules/typescript/bin/tsc");
    let output = "";
    try {
      output = sh(process.execPath, [tsc, "-p", "."], project);
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe("");
  });

  it("installs the memtopo binary", () => {
    const bin = path.join(project, "node_modules/.bin/memtopo");
    expect(fs.existsSync(bin)).toBe(true);
    expect(sh(bin, ["--version"], project)).toMatch(/\d+\.\d+\.\d+/);
  });
});
