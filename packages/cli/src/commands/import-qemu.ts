import { importQemu } from "@memtopo/qemu-text";
import { escapeText } from "@memtopo/region-tree";
import type { MachineAccel } from "memtopo";
import { type CliCommand, UsageError } from "../context.js";

interface ImportFlags {
  readonly flat?: string;
  readonly output?: string;
  readonly accel?: string;
  readonly name?: string;
}

const ACCELS: readonly MachineAccel[] = ["kvm", "tcg", "none"];

/** `memtopo import-qemu <mtree-D.txt> --flat <mtree-f.txt> -o machine.json`: QEMU's text to a machine file. */
export const importQemuCommand: CliCommand = {
  register(cli, ctx) {
    cli
      .command("import-qemu <tree>", "Turn QEMU's `info mtree -D` text (and `-f` text) into a machine file")
      .option("--flat <file>", "QEMU's `info mtree -f` text: recovers what the tree leaves out")
      .option("-o, --output <file>", "Write the machine file here ('-' for standard output)", { default: "-" })
      .option("--accel <accel>", "kvm, tcg or none (default: kvm when the flat view has KVM marks, else tcg)")
      .option("--name <name>", "The machine's name")
      .example("memtopo import-qemu mtree-D.txt --flat mtree-f.txt -o machine.json")
      .action(async (file: string, flags: ImportFlags) => {
        const output = flags.output;
        if (typeof output !== "string" || output === "") throw new UsageError("-o needs a file name ('-' for stdout)");
        if (flags.flat !== undefined && typeof flags.flat !== "string")
          throw new UsageError("--flat needs a file name");
        const accel = flags.accel;
        if (accel !== undefined && !ACCELS.includes(accel as MachineAccel)) {
          throw new UsageError(`--accel must be kvm, tcg or none, got ${String(accel)}`);
        }
        const { machine, warnings } = importQemu({
          tree: await ctx.readText(file),
          ...(flags.flat === undefined ? {} : { flat: await ctx.readText(flags.flat) }),
          ...(accel === undefined ? {} : { accel: accel as MachineAccel }),
          ...(flags.name === undefined ? {} : { name: String(flags.name) }),
        });
        for (const w of warnings) ctx.stderr(`memtopo: note: ${escapeText(w)}\n`);
        await ctx.writeText(output, `${JSON.stringify(machine, null, 1)}\n`);
      });
  },
};
