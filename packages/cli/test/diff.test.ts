import path from "node:path";
import { casesDir } from "@memtopo/fixtures";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.js";

const cases = casesDir;
const held = path.join(cases, "x86-q35-held-kvm", "machine.json");
const ran = path.join(cases, "x86-q35-ran-kvm", "machine.json");

describe("memtopo diff", () => {
  it("--json prints one event object a line, begin first and commit last", () => {
    const r = runCli(["diff", held, ran, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const events = r.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(events[0]).toEqual({ event: "begin" });
    expect(events.at(-1)).toEqual({ event: "commit" });
    const add = events.find((e) => e.event === "region_add");
    expect(Object.keys(add)).toEqual(["event", "as", "asOrdinal", "start", "size", "region", "offset", "readonly"]);
    expect(events.some((e) => e.event === "region_del")).toBe(true);
  });

  it("a machine against itself is begin, region_nop for every range, commit", () => {
    const r = runCli(["diff", held, held, "--json"]);
    expect(r.status).toBe(0);
    const kinds = new Set(
      r.stdout
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line).event),
    );
    expect([...kinds].sort()).toEqual(["begin", "commit", "region_nop"]);
  });

  it("prints readable lines without --json", () => {
    const r = runCli(["diff", held, ran]);
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe("begin");
    expect(r.stdout).toMatch(/^region_add {2}memory: 0x[0-9a-f]+ size 0x[0-9a-f]+ \S/m);
  });

  it("same-named spaces (seven vtd-root in QEMU's q35 with an IOMMU) are told apart: asOrdinal, and [n] in text", () => {
    const iommu = path.join(cases, "x86-q35-iommu-held-tcg", "machine.json");
    const json = runCli(["diff", iommu, iommu, "--json"]);
    expect(json.status).toBe(0);
    const ordinals = json.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line))
      .filter((e) => e.as === "vtd-root")
      .map((e) => e.asOrdinal);
    expect([...new Set(ordinals)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const text = runCli(["diff", iommu, iommu]);
    expect(text.stdout).toMatch(/^region_nop {2}vtd-root: /m);
    expect(text.stdout).toMatch(/^region_nop {2}vtd-root\[6\]: /m);
  });

  it("a missing file fails with exit 1; a missing argument is a usage error", () => {
    expect(runCli(["diff", held, "/nonexistent.json"]).status).toBe(1);
    const r = runCli(["diff", held]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("missing required args");
  });
});
