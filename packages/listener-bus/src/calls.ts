import { MemtopoError } from "@memtopo/region-tree";
import { listenerLabel } from "./registry.js";
import type { MemoryListener } from "./types.js";

/** The callbacks of a {@link MemoryListener}. */
export type ListenerCallback = Exclude<keyof MemoryListener, "name" | "priority">;

type Args<K extends ListenerCallback> = Parameters<NonNullable<MemoryListener[K]>>;

/** One callback that threw. */
export interface ListenerFailure {
  readonly listener: MemoryListener;
  readonly callback: ListenerCallback;
  readonly error: unknown;
}

/**
 * One or more listener callbacks threw while a stream of events was delivered (a commit,
 * a replay). Delivery was not interrupted: every other callback of the stream ran, so the
 * other listeners saw a complete, consistent stream; `failures` lists what threw, in order,
 * and `cause` is the first error.
 */
export class ListenerCallbackError extends MemtopoError {
  readonly failures: readonly ListenerFailure[];

  constructor(during: string, failures: readonly ListenerFailure[]) {
    const first = failures[0]!;
    const what = failures
      .slice(0, 3)
      .map((f) => `${listenerLabel(f.listener)}.${f.callback}: ${describeError(f.error)}`)
      .join("; ");
    const more = failures.length > 3 ? ` (and ${failures.length - 3} more)` : "";
    super("E_LISTENER_FAILED", `${failures.length} listener callback(s) failed during ${during}: ${what}${more}`, {
      cause: first.error,
    });
    this.failures = failures;
  }
}

function describeError(error: unknown): string {
  if (error instanceof MemtopoError) return `[${error.code}] ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Calls listener callbacks in QEMU's directions (`MEMORY_LISTENER_CALL*`): Forward walks a
 * list head to tail, Reverse tail to head. A callback that throws is recorded and the walk
 * goes on; {@link ListenerCalls.throwIfFailed} reports everything at the end of the stream.
 */
export class ListenerCalls {
  readonly failures: ListenerFailure[] = [];

  forward<K extends ListenerCallback>(list: readonly MemoryListener[], callback: K, ...args: Args<K>): void {
    for (let i = 0; i < list.length; i++) this.one(list[i]!, callback, ...args);
  }

  reverse<K extends ListenerCallback>(list: readonly MemoryListener[], callback: K, ...args: Args<K>): void {
    for (let i = list.length - 1; i >= 0; i--) this.one(list[i]!, callback, ...args);
  }

  one<K extends ListenerCallback>(listener: MemoryListener, callback: K, ...args: Args<K>): void {
    const fn = listener[callback] as ((...a: Args<K>) => void) | undefined;
    if (fn === undefined) return;
    try {
      fn.apply(listener, args);
    } catch (error) {
      this.failures.push({ listener, callback, error });
    }
  }

  throwIfFailed(during: string): void {
    if (this.failures.length > 0) throw new ListenerCallbackError(during, this.failures);
  }
}
