import type { Translation } from "@memtopo/kvm";
import { expectLength, view } from "./codec.js";
import type { VcpuStateLayout } from "./layout.js";

/** `struct kvm_translation` after KVM_TRANSLATE. */
export function decodeTranslation(layout: VcpuStateLayout, bytes: Uint8Array): Translation {
  const t = layout.translation;
  expectLength("KVM_TRANSLATE", bytes, t.size);
  const v = view(bytes);
  return {
    linearAddress: v.getBigUint64(t.linearAddress, true),
    physicalAddress: v.getBigUint64(t.physicalAddress, true),
    valid: v.getUint8(t.valid) !== 0,
    writeable: v.getUint8(t.writeable) !== 0,
    usermode: v.getUint8(t.usermode) !== 0,
  };
}
