import type { MemorySystem } from "memtopo";
import { type DiffEvent, type DiffSpace, diffEventListener, diffSpaces } from "../diff/machine-diff.js";

/** The listener type of memtopo's MemorySystem (the CLI reaches listeners only through it). */
type MemoryListener = Parameters<MemorySystem["registerListener"]>[0];

/**
 * Records every commit as `memtopo diff --json` prints one: `begin`, the region and ioeventfd events of each
 * address space in the order the listeners get them, `commit`. One listener per address space (as a VMM
 * registers them), so every transaction's global begin and commit reach it once per space: the first begin opens
 * the commit, the first commit closes it and hands its events on; the others of the same transaction are the
 * same call seen by the other spaces.
 */
export class CommitEventRecorder {
  private open: DiffEvent[] | null = null;
  private attaching = false;

  constructor(private readonly onCommit: (events: readonly DiffEvent[]) => void) {}

  /** Listens on every address space the memory has now (spaces created later are not seen), from the next commit. */
  attach<M extends { readonly addressSpaces: readonly { readonly name: string }[] }>(
    memory: M,
    register: (listener: MemoryListener, as: M["addressSpaces"][number]) => void,
  ): void {
    // Registering replays the current map to the new listener (QEMU's listener_add_address_space): that
    // is no commit, so it is not recorded.
    this.attaching = true;
    try {
      for (const { as, space } of diffSpaces(memory.addressSpaces)) register(this.listener(space), as);
    } finally {
      this.attaching = false;
    }
  }

  private listener(space: DiffSpace): MemoryListener {
    return {
      ...diffEventListener(
        space,
        (event) => this.open?.push(event),
        `memtopo-pc-events:${space.name}#${space.ordinal}`,
      ),
      begin: () => {
        if (this.open === null && !this.attaching) this.open = [{ event: "begin" }];
      },
      commit: () => {
        const events = this.open;
        if (events === null) return;
        this.open = null;
        events.push({ event: "commit" });
        this.onCommit(events);
      },
    };
  }
}
