import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODE_AT, guest, kvm } from "./helpers.js";

// Installing from npm where install scripts are blocked (pnpm 10's default for
// dependencies): pack this package and the workspace packages it depends on,
// install the tarballs into an empty project with scripts off, and use the
// prebuilt binary from there; run a guest when /dev/kvm is usable.
const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const packagesDir = path.dirname(packageDir);
const pnpm = ["-y", "pnpm@10.34.9"];
// The nested-KVM guest has no registry: CI installs the project on the host, keeping it
// (MEMTOPO_PACK_KEEP=dir), then runs this file in the guest on it (MEMTOPO_PACKED_PROJECT=dir).
const keepAt = process.env.MEMTOPO_PACK_KEEP;
const preinstalled = process.env.MEMTOPO_PACKED_PROJECT;

function sh(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 240_000 });
}

/** Directory names of this package and every workspace package it depends on, transitively. */
function workspaceClosure(): string[] {
  const byName = new Map<string, string>();
  for (const dir of fs.readdirSync(packagesDir)) {
    const file = path.join(packagesDir, dir, "package.json");
    if (fs.existsSync(file)) byName.set(JSON.parse(fs.readFileSync(file, "utf8")).name, dir);
  }
  const seen = new Set<string>();
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const pkg = JSON.parse(fs.readFileSync(path.join(packagesDir, dir, "package.json"), "utf8"));
    for (const [name, spec] of Object.entries<string>(pkg.dependencies ?? {})) {
      if (spec.startsWith("workspace:")) visit(byName.get(name)!);
    }
  };
  visit(path.basename(packageDir));
  return [...seen];
}

describe.skipIf(process.platform !== "linux" || process.arch !== "x64")(
  "installed from its tarball, scripts blocked",
  () => {
    let work: string;
    let project: string;

    beforeAll(() => {
      if (preinstalled !== undefined) {
        project = preinstalled;
        return;
      }
      if (keepAt !== undefined) {
        fs.rmSync(keepAt, { recursive: true, force: true });
        fs.mkdirSync(keepAt, { recursive: true });
      }
      work = keepAt ?? fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-kvm-native-pack-"));
      const tarballs = path.join(work, "tarballs");
      fs.mkdirSync(tarballs);
      const files: Record<string, string> = {};
      for (const dir of workspaceClosure()) {
        const cwd = path.join(packagesDir, dir);
        // Under turbo, `build` ran before `test`; a bare `vitest run` in a clean clone builds here.
        if (!fs.existsSync(path.join(cwd, "dist/index.js"))) sh("npx", ["tsup"], cwd);
        const out = sh("npx", [...pnpm, "pack", "--pack-destination", tarballs], cwd)
          .trim()
          .split("\n")
          .pop()!;
        const { name } = JSON.parse(fs.readFileSync(path.join(cwd, "package.json"), "utf8"));
        files[name] = `file:${path.resolve(cwd, out)}`;
      }
      project = path.join(work, "project");
      fs.mkdirSync(project);
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
      if (work && keepAt === undefined) fs.rmSync(work, { recursive: true, force: true });
    });

    it("ships the prebuilt linux-x64 binary, and nothing was built at install", () => {
      const installed = fs.realpathSync(path.join(project, "node_modules/@memtopo/kvm-native"));
      expect(fs.readdirSync(path.join(installed, "prebuilds/linux-x64")).some((f) => f.endsWith(".node"))).toBe(true);
      expect(fs.existsSync(path.join(installed, "build"))).toBe(false);
    });

    it("loads the prebuild: probe() gives a device reason, never 'no-binary', and guest RAM works", () => {
      fs.writeFileSync(
        path.join(project, "load.mjs"),
        `import { nativeRamAllocator, probe } from "@memtopo/kvm-native";
       const ram = nativeRamAllocator().allocate("pack", 4096n);
       ram.bytes()[7] = 42;
       console.log(JSON.stringify({ probe: probe(), byte: ram.bytes()[7], aligned: ram.hostAddr % 4096n === 0n }));`,
      );
      const out = JSON.parse(sh(process.execPath, ["load.mjs"], project));
      expect(out.byte).toBe(42);
      expect(out.aligned).toBe(true);
      expect(out.probe.reason).not.toBe("no-binary");
      expect(out.probe.ok).toBe(kvm.ok);
    });

    it("without any binary it still imports, and probe() says 'no-binary' with the paths it tried", () => {
      const installed = fs.realpathSync(path.join(project, "node_modules/@memtopo/kvm-native"));
      const prebuilds = path.join(installed, "prebuilds");
      fs.renameSync(prebuilds, `${prebuilds}.hidden`);
      try {
        fs.writeFileSync(
          path.join(project, "nobinary.mjs"),
          `import { isAvailable, NativeKvm } from "@memtopo/kvm-native";
           let open;
           try { NativeKvm.open(); } catch (error) { open = error.code; }
           console.log(JSON.stringify({ probe: isAvailable(), open }));`,
        );
        const out = JSON.parse(sh(process.execPath, ["nobinary.mjs"], project));
        expect(out.probe).toMatchObject({ ok: false, reason: "no-binary" });
        expect(out.probe.triedPaths.length).toBeGreaterThan(0);
        expect(out.open).toBe("no-binary");
      } finally {
        fs.renameSync(`${prebuilds}.hidden`, prebuilds);
      }
    });

    it.skipIf(!kvm.ok)("runs a guest from the installed package", () => {
      fs.writeFileSync(path.join(project, "guest.json"), JSON.stringify([...guest("ram")]));
      fs.writeFileSync(
        path.join(project, "guest.mjs"),
        `import fs from "node:fs";
       import { NativeKvm, enterRealMode, runVcpu } from "@memtopo/kvm-native";
       const code = Uint8Array.from(JSON.parse(fs.readFileSync("guest.json", "utf8")));
       const vm = NativeKvm.open();
       const ram = vm.ramAllocator.allocate("low", 0x4000n);
       ram.bytes().set(code, ${CODE_AT});
       ram.bytes()[0x2000] = 0x10;
       vm.setUserMemoryRegion({ slot: 0, flags: 0, guestPhysAddr: 0n, memorySize: 0x4000n, userspaceAddr: ram.hostAddr });
       const vcpu = vm.createVcpu(0);
       enterRealMode(vcpu, ${CODE_AT});
       const bus = { read: () => 0, write: () => 0 };
       const result = runVcpu(vcpu, { memory: bus, io: bus }, { maxExits: 10 });
       console.log(JSON.stringify({ reason: result.reason, value: ram.bytes()[0x2001] }));
       vm.close();`,
      );
      expect(JSON.parse(sh(process.execPath, ["guest.mjs"], project))).toEqual({ reason: "hlt", value: 0x11 });
    });
  },
);
