import type { EventNotifier } from "@memtopo/region-tree";
import type { NativeBinding } from "./binding.js";
import { native } from "./errors.js";

let nextId = 1;

/**
 * An EventNotifier on a real eventfd (non-blocking, close-on-exec): the thing a
 * guest write signals through KVM_IOEVENTFD without leaving the kernel.
 */
export class EventFdNotifier implements EventNotifier {
  readonly id = nextId++;
  readonly #binding: NativeBinding;
  #fd: number;

  constructor(binding: NativeBinding) {
    this.#binding = binding;
    this.#fd = native("eventfd", () => binding.eventfdCreate());
  }

  /** The eventfd number; undefined once closed. */
  get fd(): number | undefined {
    return this.#fd < 0 ? undefined : this.#fd;
  }

  /** Adds 1 to the counter, as a guest write that the kernel matched would. */
  signal(): void {
    native("eventfd write", () => this.#binding.eventfdWrite(this.#fd, 1n));
  }

  /** The counter (how many signals since the last read), reset to 0; 0n when none. */
  read(): bigint {
    return native("eventfd read", () => this.#binding.eventfdRead(this.#fd)) ?? 0n;
  }

  close(): void {
    if (this.#fd < 0) return;
    native("eventfd close", () => this.#binding.eventfdClose(this.#fd));
    this.#fd = -1;
  }
}
