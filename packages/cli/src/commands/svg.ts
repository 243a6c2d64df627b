import path from "node:path";
import { loadMachine } from "memtopo";
import { type CliCommand, UsageError } from "../context.js";
import { renderMemoryMapHtml, renderMemoryMapSvg } from "../svg/index.js";

interface SvgFlags {
  readonly output?: string;
  readonly html?: boolean;
  readonly title?: string;
}

/** `memtopo svg <machine.json> -o map.svg [--html]`: a picture of the memory map. */
export const svgCommand: CliCommand = {
  register(cli, ctx) {
    cli
      .command("svg <machine>", "Draw the memory map of a machine file as SVG (or an HTML page with hover details)")
      .option("-o, --output <file>", "Write the picture here ('-' for standard output)", { default: "-" })
      .option("--html", "Write an HTML page that shows each range's details on hover")
      .option("--title <text>", "Heading of the picture (default: the machine's name, else the file's)")
      .example("memtopo svg machine.json -o map.svg")
      .example("memtopo svg machine.json --html -o map.html")
      .action(async (file: string, flags: SvgFlags) => {
        const output = flags.output;
        if (typeof output !== "string" || output === "") throw new UsageError("-o needs a file name ('-' for stdout)");
        const machine = loadMachine(await ctx.readText(file));
        // Unnamed machines are titled with their file's name (standard input has none).
        const fromFile = file === "-" ? "memory map" : path.basename(file).replace(/\.json$/i, "");
        const title = typeof flags.title === "string" ? flags.title : machine.name || fromFile;
        const text =
          flags.html === true
            ? renderMemoryMapHtml(machine.addressSpaces, { title })
            : renderMemoryMapSvg(machine.addressSpaces, { title });
        await ctx.writeText(output, text);
      });
  },
};
