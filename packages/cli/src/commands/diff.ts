import { escapeText } from "@memtopo/region-tree";
import { loadMachine } from "memtopo";
import type { CliCommand } from "../context.js";
import { type DiffEvent, diffMachines } from "../diff/machine-diff.js";

interface DiffFlags {
  readonly json?: boolean;
}

/**
 * `memtopo diff <a.json> <b.json> [--json]`: the listener events (QEMU's order) that take
 * machine a to machine b, as one topology commit would deliver them.
 */
export const diffCommand: CliCommand = {
  register(cli, ctx) {
    cli
      .command("diff <a> <b>", "Print the listener events that take machine a to machine b, in QEMU's order")
      .option("--json", "One JSON object a line")
      .example("memtopo diff held.json ran.json --json")
      .action(async (a: string, b: string, flags: DiffFlags) => {
        const first = loadMachine(await ctx.readText(a));
        const second = loadMachine(await ctx.readText(b));
        const events = diffMachines(first, second);
        const lines = events.map((e) => (flags.json === true ? JSON.stringify(e) : describe(e)));
        ctx.stdout(`${lines.join("\n")}\n`);
      });
  },
};

/** A space's name, and its rank among same-named spaces when it is not the first (`memory[1]`). */
function spaceLabel(e: { readonly as: string; readonly asOrdinal: number }): string {
  return e.asOrdinal === 0 ? escapeText(e.as) : `${escapeText(e.as)}[${e.asOrdinal}]`;
}

function describe(e: DiffEvent): string {
  switch (e.event) {
    case "begin":
    case "commit":
      return e.event;
    case "eventfd_add":
    case "eventfd_del":
      return `${e.event.padEnd(11)} ${spaceLabel(e)}: ${e.start} size ${e.size}${e.matchData ? ` data ${e.data}` : ""}`;
    default: {
      const masks = "oldMask" in e ? ` mask ${e.oldMask} -> ${e.newMask}` : "";
      return `${e.event.padEnd(11)} ${spaceLabel(e)}: ${e.start} size ${e.size} ${escapeText(e.region)} @${e.offset}${e.readonly ? " readonly" : ""}${masks}`;
    }
  }
}
