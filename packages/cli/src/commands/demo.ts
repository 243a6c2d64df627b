import { MemtopoError } from "@memtopo/region-tree";
import { type CliCommand, type CommandContext, UsageError } from "../context.js";
import type { BackendChoice } from "../demo/backends/choose.js";
import { formatEvents } from "../demo/event-log.js";
import { DEMO_GUEST, DEMO_GUEST_ENTRY } from "../demo/guest/index.js";
import { DEMO_BAR, DEMO_BAR_MOVED } from "../demo/machine.js";
import { type DemoReport, runDemo } from "../demo/run-demo.js";

interface DemoFlags {
  readonly backend?: string;
  readonly json?: boolean;
  readonly save?: string;
  readonly svg?: string;
}

const BACKENDS: readonly BackendChoice[] = ["auto", "mock", "native"];

function paint(ctx: CommandContext, code: string, text: string): string {
  return ctx.color ? `\u001b[${code}m${text}\u001b[0m` : text;
}

function toJson(report: DemoReport): string {
  return `${JSON.stringify(report, (_key, value) => (typeof value === "bigint" ? `0x${value.toString(16)}` : value), 2)}\n`;
}

function toText(report: DemoReport, ctx: CommandContext): string {
  const h = (text: string): string => `\n${paint(ctx, "1;36", `== ${text} ==`)}\n`;
  const out: string[] = [];
  out.push(paint(ctx, "1", "memtopo demo: an embedded PC-like machine built with memtopo's public API\n"));
  out.push(
    report.whyNotNative === null
      ? "backend: native (/dev/kvm)\n"
      : `backend: mock (native not used: ${report.whyNotNative})\n`,
  );
  out.push(h("info mtree"), report.mtree);
  out.push(h("info mtree -f"), report.flat);
  out.push(h("PAM toggle: the firmware shadows its BIOS (PAM0, 0xf0000-0xfffff: PCI -> read-only RAM)"));
  out.push(`${formatEvents(report.pamToggle).join("\n")}\n`);
  out.push(h(`BAR move: demo-mmio from 0x${DEMO_BAR.toString(16)} to 0x${DEMO_BAR_MOVED.toString(16)}`));
  out.push(`${formatEvents(report.barMove).join("\n")}\n`);
  out.push(
    h(
      `guest: ${DEMO_GUEST.length} bytes of real-mode code at 0x${DEMO_GUEST_ENTRY.toString(16)}, run by ${report.guest.stop.engine}`,
    ),
  );
  for (const o of report.guest.outcomes) {
    const mark = o.ok ? paint(ctx, "32", "ok  ") : paint(ctx, "31", "FAIL");
    out.push(`  ${mark} ${o.step.padEnd(10)} ${o.detail}\n`);
  }
  out.push(`  ${report.guest.exits.length} accesses left the guest and were dispatched to TypeScript devices\n`);
  return out.join("");
}

/** `memtopo demo`: the README's main job. */
export const demoCommand: CliCommand = {
  register(cli, ctx) {
    cli
      .command(
        "demo",
        "Build an embedded PC-like machine, show its maps and listener events, and run a tiny guest on it",
      )
      .option("--backend <backend>", "KVM backend: auto (native when /dev/kvm is usable), mock or native", {
        default: "auto",
      })
      .option("--json", "Print the whole report as one JSON object")
      .option("--save <file>", "Also write the demo machine (as built) to a machine file, for the other commands")
      .option("--svg <file>", "Also draw the memory map before and after the PAM toggle and the BAR move")
      .example("memtopo demo")
      .example("memtopo demo --backend mock --json")
      .example("memtopo demo --save demo.json && memtopo svg demo.json -o demo.svg")
      .action(async (flags: DemoFlags) => {
        const choice = flags.backend as BackendChoice;
        if (!BACKENDS.includes(choice)) {
          throw new UsageError(`--backend must be one of ${BACKENDS.join(", ")}, got "${String(flags.backend)}"`);
        }
        for (const [option, value] of [
          ["--save", flags.save],
          ["--svg", flags.svg],
        ] as const) {
          if (value !== undefined && (typeof value !== "string" || value === "")) {
            throw new UsageError(`${option} needs a file name`);
          }
        }
        const { report, machine, picture } = runDemo(choice);
        if (typeof flags.svg === "string") await ctx.writeText(flags.svg, picture);
        if (typeof flags.save === "string") await ctx.writeText(flags.save, `${JSON.stringify(machine, null, 2)}\n`);
        ctx.stdout(flags.json === true ? toJson(report) : toText(report, ctx));
        const failed = report.guest.outcomes.filter((o) => !o.ok).map((o) => o.step);
        if (failed.length > 0) {
          throw new MemtopoError("E_DEMO_GUEST", `the guest did not behave as expected in: ${failed.join(", ")}`);
        }
      });
  },
};
