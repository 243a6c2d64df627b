import fs from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { runCli } from "./run-cli.js";

// docs/cli.md is the command's manual: every command `memtopo --help` lists has a section of its own there, and
// the manual's exit-code convention (usage errors 2) is what a usage error gives.
const manual = fs.readFileSync(path.join(import.meta.dirname, "../../../docs/cli.md"), "utf8");

it("docs/cli.md has a section for every command the CLI has", () => {
  const help = runCli(["--help"]).stdout;
  const commands = [...help.slice(help.indexOf("Commands:")).matchAll(/^ {2}([a-z-]+)(?: |$)/gm)].map((m) => m[1]!);
  expect(commands).toContain("slots");
  for (const command of commands) {
    expect(manual, `a "## \`memtopo ${command}" section`).toMatch(new RegExp(`^## \`memtopo ${command}[ \`]`, "m"));
  }
});

it("a usage error exits 2, as the manual says, for every command", () => {
  expect(manual).toContain("`2` a usage error");
  for (const command of ["demo", "mtree", "slots", "diff", "import-qemu", "svg", "pc", "migrate", "snapshot"]) {
    expect(runCli([command, "--no-such-option"]).status, command).toBe(2);
  }
});
