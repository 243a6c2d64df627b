import { KVM_IOEVENTFD_FLAG_DEASSIGN, type KvmBackend, type KvmIoeventfd } from "./backend.js";
import { throwFailures } from "./failures.js";

interface Pending {
  /** The request as assigned (no DEASSIGN flag). */
  readonly request: KvmIoeventfd;
  /** True: the kernel lacks it and should have it; false: it has it and should not. */
  readonly assign: boolean;
}

function same(a: KvmIoeventfd, b: KvmIoeventfd): boolean {
  return (
    a.addr === b.addr &&
    a.len === b.len &&
    a.datamatch === b.datamatch &&
    a.notifier === b.notifier &&
    (a.flags & ~KVM_IOEVENTFD_FLAG_DEASSIGN) === (b.flags & ~KVM_IOEVENTFD_FLAG_DEASSIGN)
  );
}

/**
 * Sends KVM_IOEVENTFD calls and remembers the ones the kernel refused, so that a later
 * commit can bring the kernel back to what the address space holds. QEMU aborts on such
 * a failure; a library cannot, so it reports the error and retries (see `retry`).
 */
export class IoeventfdSync {
  readonly #backend: KvmBackend;
  #pending: Pending[] = [];

  constructor(backend: KvmBackend) {
    this.#backend = backend;
  }

  /** Refused calls not yet redone. */
  get pending(): number {
    return this.#pending.length;
  }

  /**
   * Assigns (or deassigns) `request`, then redoes earlier refusals: an ioeventfd-only
   * commit calls no `begin` (as in QEMU), so this is where they get their next chance. A
   * refusal is remembered; all are reported (`throwFailures`) once everything was tried.
   */
  apply(request: KvmIoeventfd, assign: boolean): void {
    const failures: unknown[] = [];
    let refused = false;
    const i = this.#pending.findIndex((p) => same(p.request, request));
    if (i >= 0 && this.#pending[i]!.assign !== assign) {
      // The opposite call failed earlier, so the kernel already is where this call leads.
      this.#pending.splice(i, 1);
    } else {
      try {
        this.#send(request, assign);
      } catch (error) {
        failures.push(error);
        refused = true;
      }
    }
    try {
      this.retry();
    } catch (error) {
      failures.push(error);
    }
    if (refused) this.#pending.push({ request, assign });
    throwFailures(failures);
  }

  /** Redoes every refused call in order; those refused again stay, and every refusal is reported. */
  retry(): void {
    if (this.#pending.length === 0) return;
    const failures: unknown[] = [];
    this.#pending = this.#pending.filter((p) => {
      try {
        this.#send(p.request, p.assign);
        return false;
      } catch (error) {
        failures.push(error);
        return true;
      }
    });
    throwFailures(failures);
  }

  #send(request: KvmIoeventfd, assign: boolean): void {
    this.#backend.ioeventfd(assign ? request : { ...request, flags: request.flags | KVM_IOEVENTFD_FLAG_DEASSIGN });
  }
}
