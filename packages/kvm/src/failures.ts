import { cutText } from "@memtopo/region-tree";
import { KvmError } from "./errors.js";

/** As long as a MemtopoError's message may be. */
const MAX_MESSAGE = 2000;
/** How many of the later failures the message names; `failures` holds them all. */
const NAMED = 3;

/**
 * Several kernel calls of one pass failed (a commit's slot updates, a retry, a dirty-log sync).
 * The pass did not stop at the first: every call was tried, as the listener bus delivers every
 * callback. `code`, `errno` and `operation` are the first failure's, so a caller that handles one
 * KvmError handles this too; `failures` lists every one in call order, and `cause` is the first.
 */
export class KvmAggregateError extends KvmError {
  readonly failures: readonly unknown[];

  constructor(first: KvmError, failures: readonly unknown[]) {
    super(first.code, first.operation, "", first.errno);
    const later = failures.slice(1, 1 + NAMED).map((e) => (e instanceof Error ? e.message : String(e)));
    const more = failures.length > 1 + NAMED ? `; and ${failures.length - 1 - NAMED} more` : "";
    this.message = cutText(
      `${first.message} (then ${failures.length - 1} more: ${later.join("; ")}${more})`,
      MAX_MESSAGE,
    );
    this.failures = failures;
    Object.defineProperty(this, "cause", { value: first, enumerable: false, writable: true, configurable: true });
  }
}

/**
 * Reports what a pass collected: nothing when `failures` is empty, the failure itself when there
 * is one, and a {@link KvmAggregateError} naming them all when there are several. A first failure
 * that is no KvmError is a fault of the code, not of the kernel, and is thrown as it is.
 */
export function throwFailures(failures: readonly unknown[]): void {
  if (failures.length === 0) return;
  const first = failures[0];
  if (failures.length === 1 || !(first instanceof KvmError)) throw first;
  throw new KvmAggregateError(first, failures);
}
