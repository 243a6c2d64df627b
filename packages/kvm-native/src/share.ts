import { KvmError } from "@memtopo/kvm";
import type { NativeBinding } from "./binding.js";
import { native } from "./errors.js";
import { bindingOrReason } from "./probe.js";
import { Vcpu, type VcpuShareToken } from "./vcpu.js";

export type { VcpuShareToken };

/**
 * Names a range of guest RAM for other threads of this process (post it to a worker,
 * which takes views with {@link sharedRamView}). The share keeps the mapping alive
 * until {@link dropShare}, so a released block's memory is never reused under it.
 */
export type RamShareToken = number;

interface ShareOptions {
  readonly nativeBinding?: NativeBinding;
}

function binding(op: string, options: ShareOptions): NativeBinding {
  const b = bindingOrReason(options.nativeBinding);
  if (!("layout" in b)) throw new KvmError(b.reason, op, b.detail);
  return b;
}

/**
 * Shares guest RAM (a block from a NativeKvm's allocator, or part of one) with other
 * threads. Only memory of a live RAM block of this addon can be shared (EFAULT otherwise).
 */
export function shareRam(
  ram: { readonly hostAddr: bigint; readonly size: bigint },
  options: ShareOptions = {},
): RamShareToken {
  const b = binding("shareRam", options);
  if (ram === null || typeof ram !== "object") {
    throw new KvmError("EINVAL", "shareRam", "ram must be a RAM block (an object with hostAddr and size)");
  }
  return native("shareRam", () => b.shareRam(ram.hostAddr, ram.size));
}

/**
 * A view of `length` bytes at `offset` in a RAM share, in the calling thread: the same
 * memory the guest and the sharing thread see (no copy). One view covers at most 4 GiB;
 * take several for larger RAM. The view keeps the memory mapped while it is reachable.
 */
export function sharedRamView(
  token: RamShareToken,
  offset: bigint,
  length: bigint,
  options: ShareOptions = {},
): Uint8Array {
  const b = binding("sharedRamView", options);
  return new Uint8Array(native("sharedRamView", () => b.ramView(token, offset, length)));
}

/**
 * Takes over a vCPU that another thread handed out with `Vcpu.transfer()`: the returned
 * vCPU runs in this thread, with its own kvm_run view and a new `kickId`. A token is
 * adopted once; ENOENT for a token that is unknown, dropped or already adopted.
 */
export function adoptVcpu(token: VcpuShareToken, options: ShareOptions = {}): Vcpu {
  const b = binding("adoptVcpu", options);
  const [nativeVcpu, id] = native("adoptVcpu", () => b.adoptVcpu(token));
  let vcpu: Vcpu | undefined;
  try {
    vcpu = new Vcpu(id, nativeVcpu, b.layout, () => {});
  } finally {
    if (vcpu === undefined) nativeVcpu.close();
  }
  return vcpu;
}

/**
 * Ends a share: a RAM share stops pinning its mapping (views already taken stay valid),
 * an unadopted vCPU's fd is closed. False when the token names no live share.
 */
export function dropShare(token: RamShareToken | VcpuShareToken, options: ShareOptions = {}): boolean {
  const b = binding("dropShare", options);
  return native("dropShare", () => b.dropShare(token));
}
