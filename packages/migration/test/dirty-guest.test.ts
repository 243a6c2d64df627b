import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without types
import { assembleGuest } from "../../../scripts/assemble-guest.mjs";
import { DIRTY_GUEST_HEX } from "../src/workload/index.js";

const hasBinutils = spawnSync("as", ["--version"]).status === 0 && spawnSync("objcopy", ["--version"]).status === 0;
if (!hasBinutils)
  console.warn("[migration] dirty guest re-assembly check skipped: binutils (as, objcopy) not installed");

describe("the dirtying guest", () => {
  it.skipIf(!hasBinutils)("the committed bytes are dirty-guest.S assembled (as --32, objcopy)", () => {
    const source = fileURLToPath(new URL("../src/workload/dirty-guest.S", import.meta.url));
    expect(Buffer.from(assembleGuest(source)).toString("hex")).toBe(DIRTY_GUEST_HEX);
  });
});
