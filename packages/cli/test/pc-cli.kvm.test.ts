import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pcCapturesDir } from "@memtopo/fixtures";
import { probe } from "@memtopo/kvm-native";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

const SEABIOS = "/usr/share/seabios/bios.bin";
const VAPIC_ROM = "/usr/share/qemu/kvmvapic.bin";
const kvm = probe();
const why = !kvm.ok ? `${kvm.reason}: ${kvm.detail}` : !fs.existsSync(SEABIOS) ? `${SEABIOS} is not installed` : null;
if (why !== null) console.warn(`[cli] memtopo pc on KVM skipped: ${why}`);

const fixtures = pcCapturesDir;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-pc-kvm-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Rule: `memtopo pc` runs SeaBIOS to "No bootable device" (exit 0) on /dev/kvm, and its
// --trace-memslots file is QEMU 7.2's KVM_SET_USER_MEMORY_REGION calls for the same firmware and -m, line for line
// (QEMU without the kvmvapic ROM, which the board does not have); --events prints whole commits as diff --json.
describe.skipIf(why !== null)("memtopo pc on KVM", () => {
  it("-m 128M: exit 0, the memslot trace is QEMU's, the debug console ends at the text", { timeout: 900_000 }, () => {
    const slots = path.join(tmp, "slots.jsonl");
    const con = path.join(tmp, "debugcon.txt");
    const r = runCli([
      "pc",
      "-m",
      "128M",
      "--trace-memslots",
      slots,
      "--debugcon",
      con,
      "--events",
      "--timeout",
      "600",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^memtopo pc: printed "No bootable device" after [0-9.]+ s, [0-9]+ exits to user space, 58 memslot calls\n$/,
    );
    expect(fs.readFileSync(slots, "utf8")).toBe(
      fs.readFileSync(path.join(fixtures, "m128M-novapic", "memslots.jsonl"), "utf8"),
    );
    const text = fs.readFileSync(con, "latin1");
    expect(text).toContain("Running on QEMU (i440fx)");
    expect(text.endsWith("No bootable device")).toBe(true);
    const events = r.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line) as { event: string });
    expect(events[0]).toEqual({ event: "begin" });
    expect(events.at(-1)).toEqual({ event: "commit" });
    expect(events.filter((e) => e.event === "begin").length).toBe(events.filter((e) => e.event === "commit").length);
    expect(events.some((e) => e.event === "region_add")).toBe(true);
  });

  // Rule: --vapic gives the board QEMU's default kvmvapic device and Debian's ROM, so the memslot
  // calls are those of QEMU 7.2 with its default vapic on (m128M), the ROM mapped as RAM included.
  it.skipIf(!fs.existsSync(VAPIC_ROM))(
    "-m 128M --vapic --cpu qemu64: the memslot trace is QEMU's with kvmvapic",
    { timeout: 900_000 },
    () => {
      const slots = path.join(tmp, "slots-vapic.jsonl");
      const con = path.join(tmp, "debugcon-vapic.txt");
      const r = runCli([
        "pc",
        "--vapic",
        "--cpu",
        "qemu64",
        "--trace-memslots",
        slots,
        "--debugcon",
        con,
        "--timeout",
        "600",
      ]);
      expect(r.status, r.stderr).toBe(0);
      expect(fs.readFileSync(con, "latin1")).toContain("Running option rom at c000:0003");
      expect(fs.readFileSync(slots, "utf8")).toBe(
        fs.readFileSync(path.join(fixtures, "m128M", "memslots.jsonl"), "utf8"),
      );
    },
  );
});
