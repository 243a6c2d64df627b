import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runWorkload } from "@memtopo/migration/workload";
import { describe, expect, it } from "vitest";
import { workloadVm } from "../src/migrate/workload-vm.js";
import { binPath, runCli } from "./run-cli.js";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "memtopo-migrate-"));

describe("memtopo migrate (pre-copy between two VMs)", () => {
  it("in one process: rounds shrink, every page equals the source's, the guest goes on at the destination", () => {
    const result = runCli(["migrate", "--json"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.committed).toBe(true);
    expect(report.firstDifference).toBeNull();
    expect(report.pagesCompared).toBe(256 + 16 + 64);
    expect(report.rounds.length).toBeGreaterThanOrEqual(3);
    expect(report.rounds[0].pages).toBe(130);
    expect(report.stopAndCopyPages).toBeLessThanOrEqual(16);
    expect(report.mapChanges).toHaveLength(2);
    expect(report.passesAfter).toBe(report.passesAtStop + 2);
    expect(report.downtimeMs).toBeGreaterThan(0);
  });

  it("between two processes over a Unix socket: the destination commits and runs the guest on", async () => {
    const sock = path.join(tmp(), "m.sock");
    const dest = spawn(process.execPath, [binPath, "migrate", "--incoming", sock, "--json"], {
      env: { ...process.env, NO_COLOR: "1" },
    });
    let out = "";
    let err = "";
    dest.stdout.on("data", (c) => {
      out += c;
    });
    const exited = new Promise<number | null>((resolve) => dest.on("exit", resolve));
    await new Promise<void>((resolve) => {
      dest.stderr.on("data", (c) => {
        err += c;
        if (err.includes("waiting on")) resolve();
      });
    });
    const source = runCli(["migrate", "--to", sock, "--json"]);
    expect(source.stderr).toBe("");
    expect(source.status).toBe(0);
    const sent = JSON.parse(source.stdout);
    expect(await exited).toBe(0);
    const received = JSON.parse(out);
    expect(received.state).toBe("committed");
    expect(received.bytes).toBe(sent.bytes);
    expect(received.rounds.map((r: { pages: number }) => r.pages)).toEqual(
      sent.rounds.map((r: { pages: number }) => r.pages),
    );
    expect(received.passesAtStop).toBe(sent.passesAtStop);
    expect(received.passesAfter).toBe(sent.passesAtStop + 2);
  }, 60_000);

  it("a usage error exits 2", () => {
    expect(runCli(["migrate", "--incoming", "a", "--to", "b"]).status).toBe(2);
    expect(runCli(["migrate", "--downtime-pages", "x"]).status).toBe(2);
  });
});

describe("memtopo snapshot save|load (restore in a new process)", () => {
  it("the guest restored in another process finishes with the checksum of an uninterrupted run", () => {
    const file = path.join(tmp(), "vm.snap");
    const saved = runCli(["snapshot", "save", file, "--passes", "3", "--limit", "5", "--json"]);
    expect(saved.stderr).toBe("");
    expect(saved.status).toBe(0);
    expect(JSON.parse(saved.stdout)).toMatchObject({ passes: 3, limit: 5 });
    const loaded = runCli(["snapshot", "load", file, "--json"]);
    expect(loaded.stderr).toBe("");
    expect(loaded.status).toBe(0);
    const report = JSON.parse(loaded.stdout);

    const straight = workloadVm({ passLimit: 5 });
    const reference = runWorkload(straight.vcpu, {});
    expect(report).toMatchObject({
      passesAtSnapshot: 3,
      passesAtEnd: 5,
      guestChecksum: reference.checksum,
      hostChecksum: reference.checksum,
    });
  });

  it("a corrupted snapshot is refused with its typed code and exit 1", () => {
    const file = path.join(tmp(), "vm.snap");
    expect(runCli(["snapshot", "save", file]).status).toBe(0);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length >> 1]! ^= 0x40;
    fs.writeFileSync(file, bytes);
    const loaded = runCli(["snapshot", "load", file]);
    expect(loaded.status).toBe(1);
    expect(loaded.stderr).toMatch(/E_STREAM_CHECKSUM|CRC-32/);
  });

  it("a usage error exits 2", () => {
    expect(runCli(["snapshot", "copy", "x"]).status).toBe(2);
    expect(runCli(["snapshot", "save", "x", "--passes", "9", "--limit", "2"]).status).toBe(2);
    expect(runCli(["snapshot", "save", "x", "--backend", "qemu"]).status).toBe(2);
  });
});
