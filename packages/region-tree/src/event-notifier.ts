/**
 * The "e" of an ioeventfd record: something a guest write can signal without a
 * userspace exit. Records compare notifiers by `id` (QEMU compares pointers);
 * backends attach their own handle (an eventfd for the native backend).
 */
export interface EventNotifier {
  /** Unique per notifier and stable for its life; orders records that tie on everything else. */
  readonly id: number;
  /** The eventfd number, when the notifier is a real eventfd. */
  readonly fd?: number | undefined;
  /** Signals the notifier from userspace (the fallback path when the kernel does not match the write). */
  signal(): void;
}
