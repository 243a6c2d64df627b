import { KVM_CAP, type KvmBackend, type KvmUserspaceMemoryRegion } from "../backend.js";
import type { KvmError } from "../errors.js";
import type { ConformanceTestApi, KvmBackendFactory, KvmConformanceEnv, KvmConformanceGuest } from "./types.js";

/** What a case body gets: the environment plus helpers bound to it. */
export interface CaseContext {
  readonly env: KvmConformanceEnv;
  readonly backend: KvmBackend;
  readonly page: bigint;
  /** A fresh page-aligned host block of `size` bytes from the environment's RAM. */
  host(size: bigint): bigint;
  /** Asserts that `call` fails with a KvmError whose code is `errno`. */
  fails(errno: string, call: () => unknown, what: string): void;
  /** The guest hooks (only in guest cases). */
  readonly guest: KvmConformanceGuest;
  readonly expect: ConformanceTestApi["expect"];
}

export type CaseBody = (ctx: CaseContext) => Promise<void> | void;

/** Registers one case that runs `body` on a fresh environment and always cleans it up. */
export function defineCase(
  api: ConformanceTestApi,
  factory: KvmBackendFactory,
  name: string,
  body: CaseBody,
  needsGuest = false,
): void {
  if (needsGuest && factory.hasGuest !== true) return;
  api.it(name, async () => {
    const env = await factory.create();
    try {
      const backend = env.backend;
      if (needsGuest && env.guest === undefined) {
        throw new Error(`${factory.name}: hasGuest is set but the environment has no guest hooks`);
      }
      await body({
        env,
        backend,
        page: BigInt(backend.hostPageSize),
        host: (size) => env.ram.allocate("conformance", size).hostAddr,
        fails: (errno, call, what) => {
          let code: string | undefined;
          try {
            call();
            code = "success";
          } catch (error) {
            if (!isKvmError(error)) throw error;
            code = error.code;
          }
          api.expect(code, what).toBe(errno);
        },
        guest: env.guest as KvmConformanceGuest,
        expect: api.expect,
      });
    } finally {
      await env.cleanup();
    }
  });
}

/**
 * Recognises a KvmError by shape, not by class: a backend may bring its own copy of
 * `@memtopo/kvm`, and the built subpath may not share the class object with the main entry.
 */
export function isKvmError(error: unknown): error is KvmError {
  return (
    error instanceof Error &&
    typeof (error as KvmError).code === "string" &&
    /^E[A-Z0-9]+$/.test((error as KvmError).code)
  );
}

export function region(
  slot: number,
  guestPhysAddr: bigint,
  memorySize: bigint,
  userspaceAddr: bigint,
  flags = 0,
): KvmUserspaceMemoryRegion {
  return { slot, flags, guestPhysAddr, memorySize, userspaceAddr };
}

/** Memslot address spaces the VM has: KVM_CAP_MULTI_ADDRESS_SPACE, or 1 when the kernel does not report it. */
export function addressSpaces(backend: KvmBackend): number {
  return Math.max(1, backend.checkExtension(KVM_CAP.MULTI_ADDRESS_SPACE));
}

/** Valid slot ids per address space: KVM_CAP_NR_MEMSLOTS, or 32 when the kernel reports 0 (as QEMU assumes). */
export function slotLimit(backend: KvmBackend): number {
  return backend.checkExtension(KVM_CAP.NR_MEMSLOTS) || 32;
}

/** The set bits of a dirty bitmap (bit i of byte j is page 8j + i). */
export function dirtyPages(bitmap: Uint8Array): number[] {
  const pages: number[] = [];
  for (let i = 0; i < bitmap.length * 8; i++) if (((bitmap[i >> 3] ?? 0) >> (i & 7)) & 1) pages.push(i);
  return pages;
}
