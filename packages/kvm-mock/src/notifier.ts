import type { EventNotifier } from "@memtopo/region-tree";

/**
 * An eventfd stand-in: a counter that guest writes hitting an ioeventfd (and userspace
 * `signal()` calls) increment, read and reset like `read(2)` on an eventfd.
 */
export class MockEventNotifier implements EventNotifier {
  readonly id: number;
  #count = 0;

  constructor(id: number) {
    this.id = id;
  }

  /** Signals not read yet. */
  get count(): number {
    return this.#count;
  }

  signal(): void {
    this.#count += 1;
  }

  /** Returns the pending count and resets it to 0, as reading an eventfd does. */
  read(): number {
    const count = this.#count;
    this.#count = 0;
    return count;
  }
}
