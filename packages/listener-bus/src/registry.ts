import { describeValue, MemtopoError } from "@memtopo/region-tree";
import type { ListenedAddressSpace, MemoryListener } from "./types.js";

/** Misuse of listener registration; the registry is unchanged when it is thrown. */
export class ListenerRegistryError extends MemtopoError {}

/** Every callback a listener may define (all but `name` and `priority`). */
const CALLBACKS = [
  "begin",
  "commit",
  "regionAdd",
  "regionDel",
  "regionNop",
  "logStart",
  "logStop",
  "logSync",
  "logSyncGlobal",
  "logClear",
  "logGlobalStart",
  "logGlobalStop",
  "logGlobalAfterSync",
  "eventfdAdd",
  "eventfdDel",
  "coalescedIoAdd",
  "coalescedIoDel",
] as const satisfies readonly Exclude<keyof MemoryListener, "name" | "priority">[];

/**
 * QEMU's two listener queues: the global one (`memory_listeners`) and one per address
 * space. Both keep ascending priority with ties in registration order, which is what
 * makes Forward (head to tail) and Reverse (tail to head) walks meaningful.
 */
export class ListenerRegistry<AS extends ListenedAddressSpace = ListenedAddressSpace> {
  readonly #global: MemoryListener[] = [];
  readonly #perSpace = new Map<AS, MemoryListener[]>();
  readonly #spaceOf = new Map<MemoryListener, AS>();
  readonly #priorityOf = new Map<MemoryListener, number>();

  /** Every registered listener, whatever its address space, in Forward order. */
  get global(): readonly MemoryListener[] {
    return this.#global;
  }

  /** The listeners of one address space, in Forward order. */
  of(as: AS): readonly MemoryListener[] {
    return this.#perSpace.get(as) ?? [];
  }

  has(listener: MemoryListener): boolean {
    return this.#spaceOf.has(listener);
  }

  addressSpaceOf(listener: MemoryListener): AS | undefined {
    return this.#spaceOf.get(listener);
  }

  /** Validates `listener` and inserts it into both lists (`memory_listener_register` without the replay). */
  add(listener: MemoryListener, as: AS): void {
    if (listener === null || typeof listener !== "object") {
      throw new ListenerRegistryError("E_INVALID_LISTENER", "a listener must be an object");
    }
    if (this.#spaceOf.has(listener)) {
      throw new ListenerRegistryError(
        "E_LISTENER_REGISTERED",
        `listener ${listenerLabel(listener)} is already registered on "${this.#spaceOf.get(listener)!.name}"`,
      );
    }
    const priority = listener.priority ?? 0;
    if (!Number.isInteger(priority) || priority < 0 || priority > 0xffffffff) {
      throw new ListenerRegistryError(
        "E_INVALID_LISTENER",
        `listener ${listenerLabel(listener)}: priority must be an unsigned 32-bit integer, got ${describeValue(priority)}`,
      );
    }
    for (const callback of CALLBACKS) {
      const fn = listener[callback];
      if (fn !== undefined && typeof fn !== "function") {
        throw new ListenerRegistryError(
          "E_INVALID_LISTENER",
          `listener ${listenerLabel(listener)}: ${callback} must be a function or absent, got ${typeof fn}`,
        );
      }
    }
    if (listener.logSync !== undefined && listener.logSyncGlobal !== undefined) {
      throw new ListenerRegistryError(
        "E_INVALID_LISTENER",
        `listener ${listenerLabel(listener)} defines both logSync and logSyncGlobal`,
      );
    }
    this.#priorityOf.set(listener, priority);
    this.#spaceOf.set(listener, as);
    insertOrdered(this.#global, listener, this.#priorityOf);
    let list = this.#perSpace.get(as);
    if (list === undefined) {
      list = [];
      this.#perSpace.set(as, list);
    }
    insertOrdered(list, listener, this.#priorityOf);
  }

  /** Unlinks `listener` from both lists and returns the address space it listened to. */
  remove(listener: MemoryListener): AS {
    const as = this.#spaceOf.get(listener);
    if (as === undefined) {
      throw new ListenerRegistryError(
        "E_LISTENER_NOT_REGISTERED",
        `listener ${listenerLabel(listener)} is not registered`,
      );
    }
    this.#global.splice(this.#global.indexOf(listener), 1);
    const list = this.#perSpace.get(as)!;
    list.splice(list.indexOf(listener), 1);
    if (list.length === 0) this.#perSpace.delete(as);
    this.#spaceOf.delete(listener);
    this.#priorityOf.delete(listener);
    return as;
  }
}

/**
 * QEMU's insertion rule: append when the list is empty or the newcomer's priority is at
 * least the last one's, else insert before the first listener of strictly greater priority.
 */
function insertOrdered(
  list: MemoryListener[],
  listener: MemoryListener,
  priorityOf: Map<MemoryListener, number>,
): void {
  const priority = priorityOf.get(listener)!;
  const last = list[list.length - 1];
  if (last === undefined || priority >= priorityOf.get(last)!) {
    list.push(listener);
    return;
  }
  const at = list.findIndex((other) => priorityOf.get(other)! > priority);
  list.splice(at, 0, listener);
}

export function listenerLabel(listener: MemoryListener): string {
  return listener.name === undefined ? "(unnamed)" : JSON.stringify(listener.name);
}
