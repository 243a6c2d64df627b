/**
 * A map from keys to sets of values where nearly every key holds one value (the view table's users per view,
 * users per root, roots per region: one of each per device address space). A key holds its value itself
 * until a second one comes, then a Set: 50 000 bus-master spaces kept three one-element Sets each.
 */
export class OneOrMany<K, V extends object> {
  readonly #map = new Map<K, V | Set<V>>();

  has(key: K): boolean {
    return this.#map.has(key);
  }

  keys(): IterableIterator<K> {
    return this.#map.keys();
  }

  clear(): void {
    this.#map.clear();
  }

  add(key: K, value: V): void {
    const held = this.#map.get(key);
    if (held === undefined) this.#map.set(key, value);
    else if (held instanceof Set) held.add(value);
    else if (held !== value) this.#map.set(key, new Set([held, value]));
  }

  /** Removes `value` from `key`'s values; returns whether `key` holds none any more. */
  delete(key: K, value: V): boolean {
    const held = this.#map.get(key);
    if (held === undefined) return true;
    if (held instanceof Set) {
      held.delete(value);
      if (held.size > 0) return false;
    } else if (held !== value) {
      return false;
    }
    this.#map.delete(key);
    return true;
  }

  /** Removes `key`, returning what it held. */
  take(key: K): V | ReadonlySet<V> | undefined {
    const held = this.#map.get(key);
    if (held !== undefined) this.#map.delete(key);
    return held;
  }

  /** Calls `fn` for each value of `key`. */
  forEach(key: K, fn: (value: V) => void): void {
    forEachOf(this.#map.get(key), fn);
  }

  /** The values of `key` as a Set (a new one when the key holds one value; empty when it holds none). */
  setOf(key: K): ReadonlySet<V> {
    const held = this.#map.get(key);
    if (held === undefined) return new Set();
    return held instanceof Set ? held : new Set([held]);
  }
}

/** Calls `fn` for each value of what {@link OneOrMany.take} returned. */
export function forEachOf<V extends object>(held: V | ReadonlySet<V> | undefined, fn: (value: V) => void): void {
  if (held === undefined) return;
  if (held instanceof Set) for (const v of held) fn(v);
  else fn(held as V);
}
