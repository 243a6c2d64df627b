import { KvmError } from "@memtopo/kvm";

interface NativeError {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
}

/**
 * Turns what the addon threw (an Error with an errno-name `code`, `errno`, `syscall`)
 * into the {@link KvmError} the KvmBackend contract promises. Anything else is a bug
 * in this package and is rethrown as is.
 */
export function toKvmError(error: unknown, operation: string): unknown {
  if (error instanceof KvmError) return error;
  const e = error as NativeError;
  if (error instanceof Error && typeof e.code === "string" && typeof e.errno === "number") {
    const prefix = `${e.code}: `;
    const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    const err = new KvmError(e.code, operation, detail, e.errno);
    (err as { cause?: unknown }).cause = error;
    return err;
  }
  return error;
}

/** Runs one native call and converts its errors. */
export function native<T>(operation: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    throw toKvmError(error, operation);
  }
}
