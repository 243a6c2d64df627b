import type { KvmDirtyGfn } from "@memtopo/kvm";
import type { NativeVcpu } from "./binding.js";
import { native } from "./errors.js";

/**
 * The VM's dirty rings as userspace reaps them: one per open vCPU, mapped by the addon when
 * the vCPU was created after KVM_ENABLE_CAP(KVM_CAP_DIRTY_LOG_RING). A vCPU handed to
 * another thread (`transfer`) takes its fd with it; its ring is then that thread's to reap.
 */
export class NativeDirtyRings {
  readonly #vcpus = new Map<number, NativeVcpu>();

  add(id: number, vcpu: NativeVcpu): void {
    this.#vcpus.set(id, vcpu);
  }

  remove(id: number): void {
    this.#vcpus.delete(id);
  }

  /** Every ring's published entries, by vCPU id, each marked collected in its ring. */
  reap(): KvmDirtyGfn[] {
    const out: KvmDirtyGfn[] = [];
    for (const id of [...this.#vcpus.keys()].sort((a, b) => a - b)) {
      const pairs = native("reap dirty ring", () => this.#vcpus.get(id)!.reapDirtyRing());
      for (let i = 0; i + 1 < pairs.length; i += 2) out.push({ slot: Number(pairs[i]!), offset: pairs[i + 1]! });
    }
    return out;
  }
}
