import { KVM_DIRTY_LOG_INITIALLY_SET, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE } from "@memtopo/kvm";
import { describe, expect, it } from "vitest";
import { manualProtectFlagsOffered } from "../src/manual-protect.js";

// QEMU's kvm_init enables KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with the check's answer masked to ENABLE | INITIALLY_SET.
describe("manualProtectFlagsOffered", () => {
  const both = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET;

  it("keeps ENABLE and INITIALLY_SET where the kernel offers both", () => {
    expect(manualProtectFlagsOffered(both)).toBe(both);
  });

  it("keeps ENABLE alone where that is all the kernel offers (a kernel from before INITIALLY_SET)", () => {
    expect(manualProtectFlagsOffered(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE)).toBe(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
  });

  it("drops bits a newer kernel might offer beyond the two it knows", () => {
    expect(manualProtectFlagsOffered(both | 0x40)).toBe(both);
  });

  it("asks for ENABLE where the kernel offers nothing, so that the kernel's own refusal reaches the caller", () => {
    expect(manualProtectFlagsOffered(0)).toBe(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE);
  });
});
