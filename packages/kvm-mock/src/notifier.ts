import type { EventNotifier } from "@memtopo/region-tree";

/**
 * An eventfd stand-in: a counter that guest writes hitting an ioeventfd (and userspace
 * `signal()` calls) increment, read and reset like `read(2)` on an eventfd. While an irqfd
 * of its VM listens on it, a signal goes to the irqfd instead, as the kernel consumes the
 * eventfd's count when it injects the interrupt.
 */
export class MockEventNotifier implements EventNotifier {
  readonly id: number;
  #count = 0;
  readonly #consumer: (notifier: MockEventNotifier) => boolean;

  /** `consumer` is the VM's irqfd table: true when an irqfd took the signal. */
  constructor(id: number, consumer: (notifier: MockEventNotifier) => boolean = () => false) {
    this.id = id;
    this.#consumer = consumer;
  }

  /** Signals not read yet. */
  get count(): number {
    return this.#count;
  }

  signal(): void {
    if (!this.#consumer(this)) this.#count += 1;
  }

  /** Returns the pending count and resets it to 0, as reading an eventfd does (a bigint, as kvm-native's). */
  read(): bigint {
    const count = this.#count;
    this.#count = 0;
    return BigInt(count);
  }
}
