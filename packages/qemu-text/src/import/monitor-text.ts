/**
 * `info mtree` text as a person pastes it from a QEMU monitor session carries more than
 * QEMU's output: the monitor banner, `(qemu) ` prompt lines (the echoed command and the
 * next prompt), terminal escape sequences from the monitor's line editor, and CRLF line
 * ends. None of that is part of the output, so it is removed before parsing, and each
 * kind of removal is reported so the importer can say what it assumed.
 */
export function cleanMonitorText(text: string): { text: string; removed: string[] } {
  const removed: string[] = [];
  // CSI sequences (cursor moves, erase-line) and two-byte ESC sequences.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC is exactly what must be removed
  let clean = text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]/g, "");
  if (clean !== text) removed.push("terminal escape sequences");
  if (/\r/.test(clean)) {
    clean = clean.replace(/\r\n?/g, "\n");
    removed.push("CR line ends");
  }
  // Most texts are QEMU's output as it was written: splitting and joining 100 MB of it for nothing was a
  // tenth of a large import's time.
  if (!/^QEMU .* monitor - type 'help' for more information$|^\(qemu\)/m.test(clean)) return { text: clean, removed };
  const lines = clean.split("\n");
  const kept = lines.filter((line) => !/^QEMU .* monitor - type 'help' for more information$/.test(line));
  if (kept.length !== lines.length) removed.push("the monitor banner");
  const output = kept.filter((line) => !line.startsWith("(qemu)"));
  const prompts = kept.length - output.length;
  if (prompts > 0) removed.push(`${prompts} monitor prompt line(s)`);
  return { text: output.join("\n"), removed };
}
