#!/usr/bin/env node
// The board's memory map before and after SeaBIOS, as memtopo machine files and `memtopo svg` pictures: the board
// is built on /dev/kvm (run it through scripts/nested-kvm/run.sh where there is none), saved at creation, run to
// "No bootable device", saved again. Needs the built packages (`pnpm build`).
//
//   node packages/pc/scripts/map-pictures.mjs [OUT_DIR] [-m SIZE]     (default packages/pc/docs, 128M)
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { NativeKvm } from "@memtopo/kvm-native";
import { createPcBoard, parseRamSize } from "@memtopo/pc";
import { saveMachine } from "memtopo";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const sizeAt = args.indexOf("-m");
const size = sizeAt >= 0 ? args.splice(sizeAt, 2)[1] : "128M";
const out = path.resolve(args[0] ?? path.join(here, "../docs"));
const cli = path.join(here, "../../cli/dist/bin.js");
fs.mkdirSync(out, { recursive: true });

const vm = NativeKvm.open();
try {
  const board = createPcBoard({
    ramSize: parseRamSize(size),
    bios: new Uint8Array(fs.readFileSync("/usr/share/seabios/bios.bin")),
    accel: { kvm: vm, ramAllocator: vm.ramAllocator },
  });
  const save = (when) => {
    const file = path.join(out, `map-${when}.json`);
    const machine = saveMachine({
      name: `memtopo pc -m ${size}, ${when}`,
      accel: "kvm",
      addressSpaces: board.addressSpaces,
    });
    fs.writeFileSync(file, `${JSON.stringify(machine, null, 2)}\n`);
    execFileSync(process.execPath, [cli, "svg", file, "-o", path.join(out, `map-${when}.svg`)]);
    fs.rmSync(file);
  };
  save("reset");
  const result = board.run({ until: "No bootable device", timeoutMs: 600_000 });
  if (result.stop !== "until") throw new Error(`the firmware stopped with ${result.stop}: ${result.detail}`);
  save("after-seabios");
  process.stdout.write(`map-pictures: ${out}/map-reset.svg, ${out}/map-after-seabios.svg\n`);
} finally {
  vm.close();
}
