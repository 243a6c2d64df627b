import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { IncomingMigration, OutgoingMigration, systemDirtyPageSource } from "../src/index.js";
import { WORKLOAD_BAR_ADDRS, WORKLOAD_PAM_START } from "../src/workload/index.js";
import { DIRTY_MODES, firstDifference, mockWorkload } from "./helpers.js";

type Action =
  | { kind: "write"; where: "ram" | "pam" | "bar"; page: number; at: number; value: number }
  | { kind: "pam" }
  | { kind: "bar" }
  | { kind: "iterate" };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("write" as const),
      where: fc.constantFrom("ram" as const, "pam" as const, "bar" as const),
      page: fc.nat(255),
      at: fc.nat(1023),
      value: fc.integer({ min: 1, max: 0xffff_ffff }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "pam" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "bar" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "iterate" as const }) },
);

describe("pre-copy never loses a page (an oracle records every guest write)", () => {
  test.prop([fc.constantFrom(...DIRTY_MODES), fc.array(action, { maxLength: 60 }), fc.nat(40)], { numRuns: 25 })(
    "random guest writes, PAM toggles, BAR moves and rounds: the destination equals the oracle page by page",
    (mode, actions, downtimePages) => {
      const source = mockWorkload({ mode });
      const destination = mockWorkload({ mode });
      // The oracle: what every RAM block must hold, kept apart from the machine's own RAM.
      const oracle = new Map(source.migratable.ramBlocks.map((mr) => [mr.name!, mr.ramBlock!.bytes().slice()]));
      const incoming = new IncomingMigration(destination.migratable);
      const outgoing = new OutgoingMigration(
        source.migratable,
        systemDirtyPageSource(source.migratable.system),
        (c) => incoming.push(c),
        { downtimePages, maxRounds: 1000 },
      );
      outgoing.begin();
      let converged = false;
      for (const a of actions) {
        if (a.kind === "pam") source.machine.setPam(!source.machine.pamRam);
        else if (a.kind === "bar")
          source.machine.moveBar(
            source.machine.barAddr === WORKLOAD_BAR_ADDRS[0] ? WORKLOAD_BAR_ADDRS[1] : WORKLOAD_BAR_ADDRS[0],
          );
        else if (a.kind === "iterate") {
          if (!converged) converged = outgoing.iterate() === null;
        } else {
          const [block, base, offset] =
            a.where === "bar"
              ? ["vga.vram", source.machine.barAddr, BigInt(a.page % 64) * 4096n + BigInt(a.at * 4)]
              : a.where === "pam" && source.machine.pamRam
                ? ["pc.ram", 0n, WORKLOAD_PAM_START + BigInt(a.page % 16) * 4096n + BigInt(a.at * 4)]
                : ["pc.ram", 0n, BigInt(a.page % 0xf0) * 4096n + BigInt(a.at * 4)];
          expect(source.kvm.guestWrite(base + offset, a.value, 4).kind).toBe("ram");
          new DataView(oracle.get(block)!.buffer).setUint32(Number(offset), a.value, true);
        }
      }
      outgoing.complete();
      incoming.finish();
      expect(incoming.committed).toBe(true);
      for (const mr of destination.migratable.ramBlocks) {
        expect(Buffer.compare(mr.ramBlock!.bytes(), oracle.get(mr.name!)!), `${mr.name} (${mode})`).toBe(0);
      }
      expect(firstDifference(source.migratable, destination.migratable)).toBeNull();
    },
  );
});
