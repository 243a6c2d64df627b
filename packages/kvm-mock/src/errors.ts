import { KvmError } from "@memtopo/kvm";
import { MemtopoError } from "@memtopo/region-tree";

/**
 * A call the mock cannot even express as an ioctl: a value that does not fit the C
 * struct field it stands for (a negative address, a slot number above 2^32), an
 * option out of range, a simulated guest access no CPU could make. Thrown before
 * anything is recorded or changed.
 */
export class MockKvmUsageError extends MemtopoError {
  constructor(message: string, path?: string) {
    super("E_KVM_MOCK_ARGUMENT", message, path === undefined ? {} : { path });
  }
}

/** errno values the KVM API returns that `ERRNO` in `@memtopo/kvm` does not list. */
const EXTRA_ERRNO: Readonly<Record<string, number>> = { ENOTTY: 25 };

/** A kernel-style failure: the errno name, the ioctl, and what was wrong. */
export function kernelError(code: string, operation: string, detail: string): KvmError {
  return new KvmError(code, operation, detail, EXTRA_ERRNO[code]);
}
