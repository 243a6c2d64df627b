import { createReadStream } from "node:fs";
import { MemtopoError } from "@memtopo/region-tree";

/** An input the CLI will not read whole (`E_INPUT_TOO_LARGE`), or one it cannot read (the errno's name). */
export class InputError extends MemtopoError {}

/** Default cap on one input: far above any QEMU dump, far below what a JS string can hold (2^29 - 24 chars). */
export const DEFAULT_MAX_INPUT_BYTES = 256 * 1024 * 1024;

/** The environment variable that raises (or lowers) the cap, in MiB. */
export const MAX_INPUT_ENV = "MEMTOPO_MAX_INPUT_MB";

/** The cap in bytes: {@link MAX_INPUT_ENV} when it is a positive whole number of MiB, else the default. */
export function maxInputBytes(env: NodeJS.ProcessEnv): number {
  const raw = env[MAX_INPUT_ENV];
  if (raw === undefined || raw === "") return DEFAULT_MAX_INPUT_BYTES;
  if (!/^[1-9][0-9]{0,6}$/.test(raw)) {
    throw new InputError("E_INPUT_LIMIT", `${MAX_INPUT_ENV} must be a whole number of MiB, got ${cut(raw)}`);
  }
  return Number(raw) * 1024 * 1024;
}

/**
 * Reads a file (or standard input for "-") as UTF-8, refusing more than `limit` bytes before it is all in memory:
 * `/dev/zero`, a FIFO that never ends and a 2 GB dump end in `E_INPUT_TOO_LARGE`, not a `RangeError`. A leading
 * byte-order mark is dropped (editors on Windows write one).
 */
export async function readInput(path: string, limit: number): Promise<string> {
  const name = path === "-" ? "standard input" : JSON.stringify(path);
  const source = path === "-" ? process.stdin : createReadStream(path);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source) {
      total += (chunk as Buffer).length;
      if (total > limit) {
        if (source !== process.stdin) (source as ReturnType<typeof createReadStream>).destroy();
        throw new InputError(
          "E_INPUT_TOO_LARGE",
          `${name} is larger than ${limit / (1024 * 1024)} MiB (${MAX_INPUT_ENV}=N raises the limit to N MiB)`,
        );
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === "string") {
      throw new InputError(code, `cannot read ${name}: ${(error as Error).message.replace(/^[A-Z]+: /, "")}`);
    }
    throw error;
  }
  let text: string;
  try {
    text = Buffer.concat(chunks, total).toString("utf8");
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new InputError("E_INPUT_TOO_LARGE", `${name} (${total} bytes) is too large for a JavaScript string`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function cut(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
