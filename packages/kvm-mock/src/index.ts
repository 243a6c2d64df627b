export type { MockCoalescedZone } from "./coalesced.js";
export { MockKvmUsageError } from "./errors.js";
export type { GuestWriteResult } from "./guest.js";
export { type IoeventfdBus, KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY, type MockIoeventfd } from "./ioeventfds.js";
export type { MockIrqfd } from "./irq/interrupts.js";
export type { MockMemslot } from "./memslots.js";
export { MockKvm } from "./mock-kvm.js";
export { KVM_INTERNAL_ERROR_EMULATION, MockVcpu } from "./mock-vcpu.js";
export { MockEventNotifier } from "./notifier.js";
export type { MockKvmOptions } from "./options.js";
export type { KvmCall, KvmMethod, PendingCall } from "./recorder.js";
export {
  type IoeventfdSnapshot,
  ioeventfdSnapshot,
  KVM_ADDRESS_SPACE_NAMES,
  type SlotSnapshot,
  slotSnapshot,
} from "./snapshot.js";
