import { MemtopoError } from "@memtopo/region-tree";

/** Linux errno values the KVM ioctls return. */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  E2BIG: 7,
  ENOSYS: 38,
  ENXIO: 6,
} as const;

export type ErrnoName = keyof typeof ERRNO;

/**
 * A KVM ioctl (or the backend standing in for it) failed. `code` is the errno
 * name ("EEXIST"), `errno` its number, `operation` the ioctl.
 */
export class KvmError extends MemtopoError {
  readonly errno: number;
  readonly operation: string;

  constructor(code: ErrnoName | string, operation: string, detail: string, errno?: number) {
    super(code, `${operation}: ${code}: ${detail}`);
    this.errno = errno ?? ERRNO[code as ErrnoName] ?? 0;
    this.operation = operation;
  }
}
