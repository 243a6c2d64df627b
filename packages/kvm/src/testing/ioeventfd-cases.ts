import type { EventNotifier } from "@memtopo/region-tree";
import {
  KVM_IOEVENTFD_FLAG_DATAMATCH as DATAMATCH,
  KVM_IOEVENTFD_FLAG_DEASSIGN as DEASSIGN,
  KVM_CAP,
  type KvmIoeventfd,
  KVM_IOEVENTFD_FLAG_PIO as PIO,
} from "../backend.js";
import { type CaseBody, type CaseContext, defineCase } from "./harness.js";
import type { ConformanceTestApi, KvmBackendFactory } from "./types.js";

/** Guest-physical addresses with no slot, for MMIO ioeventfds. */
const MMIO = 0xd000_0000n;

function fd(notifier: EventNotifier, addr: bigint, len: number, flags = 0, datamatch = 0n): KvmIoeventfd {
  return { notifier, addr, len, flags, datamatch };
}

/** Without KVM_CAP_IOEVENTFD the ioctl does not exist (ENOTTY), and that is all a case can check. */
function withIoeventfd(body: CaseBody): CaseBody {
  return (ctx: CaseContext) => {
    if (ctx.backend.checkExtension(KVM_CAP.IOEVENTFD) === 0) {
      const n = ctx.env.createEventNotifier();
      ctx.fails("ENOTTY", () => ctx.backend.ioeventfd(fd(n, MMIO, 4)), "KVM_IOEVENTFD without the cap");
      return;
    }
    return body(ctx);
  };
}

/** KVM_IOEVENTFD rules (virt/kvm/eventfd.c `kvm_assign_ioeventfd`, `ioeventfd_check_collision`, `kvm_deassign_ioeventfd_idx`). */
export function ioeventfdCases(api: ConformanceTestApi, factory: KvmBackendFactory): void {
  const it = (name: string, body: CaseBody) => defineCase(api, factory, name, withIoeventfd(body));
  const guestIt = (name: string, body: CaseBody) => defineCase(api, factory, name, withIoeventfd(body), true);

  it("length: 1, 2, 4 and 8 are accepted; any other non-zero length is EINVAL", ({ env, backend, fails }) => {
    const n = env.createEventNotifier();
    for (const len of [3, 5, 6, 7, 16]) fails("EINVAL", () => backend.ioeventfd(fd(n, MMIO, len)), `length ${len}`);
    for (const [i, len] of [1, 2, 4, 8].entries()) backend.ioeventfd(fd(n, MMIO + BigInt(i) * 0x10n, len));
  });

  it("length 0 (any length) needs KVM_CAP_IOEVENTFD_ANY_LENGTH, and never combines with DATAMATCH", (ctx) => {
    const { env, backend, fails } = ctx;
    const n = env.createEventNotifier();
    fails("EINVAL", () => backend.ioeventfd(fd(n, MMIO, 0, DATAMATCH, 1n)), "length 0 with DATAMATCH");
    if (backend.checkExtension(KVM_CAP.IOEVENTFD_ANY_LENGTH) > 0) {
      backend.ioeventfd(fd(n, MMIO, 0));
      backend.ioeventfd(fd(n, 0x60n, 0, PIO));
    } else {
      fails("EINVAL", () => backend.ioeventfd(fd(n, MMIO, 0)), "length 0 without ANY_LENGTH");
    }
  });

  it("flags: unknown bits are EINVAL; addr + len wrapping around 2^64 is EINVAL", ({ env, backend, fails }) => {
    const n = env.createEventNotifier();
    fails("EINVAL", () => backend.ioeventfd(fd(n, MMIO, 4, 0x10)), "flag 0x10");
    fails("EINVAL", () => backend.ioeventfd(fd(n, (1n << 64n) - 4n, 4)), "wrapping range");
  });

  it("ioeventfd_check_collision: the same trigger twice is EEXIST, whatever the eventfd", (ctx) => {
    const { env, backend, fails } = ctx;
    const a = env.createEventNotifier();
    const b = env.createEventNotifier();
    backend.ioeventfd(fd(a, MMIO, 4));
    fails("EEXIST", () => backend.ioeventfd(fd(b, MMIO, 4)), "same wildcard");
    fails("EEXIST", () => backend.ioeventfd(fd(b, MMIO, 4, DATAMATCH, 7n)), "datamatch under a wildcard");
    backend.ioeventfd(fd(a, MMIO + 0x10n, 2, DATAMATCH, 1n));
    fails("EEXIST", () => backend.ioeventfd(fd(b, MMIO + 0x10n, 2, DATAMATCH, 1n)), "same datamatch");
    fails("EEXIST", () => backend.ioeventfd(fd(b, MMIO + 0x10n, 2)), "wildcard over a datamatch");
    backend.ioeventfd(fd(b, MMIO + 0x10n, 2, DATAMATCH, 2n));
    backend.ioeventfd(fd(b, MMIO + 0x10n, 4, DATAMATCH, 1n));
    backend.ioeventfd(fd(b, MMIO + 0x10n, 2, PIO | DATAMATCH, 1n));
    if (backend.checkExtension(KVM_CAP.IOEVENTFD_ANY_LENGTH) > 0) {
      fails("EEXIST", () => backend.ioeventfd(fd(b, MMIO + 0x10n, 0)), "any length over a length");
      backend.ioeventfd(fd(a, MMIO + 0x20n, 0));
      fails("EEXIST", () => backend.ioeventfd(fd(b, MMIO + 0x20n, 8, DATAMATCH, 3n)), "a length under any length");
    }
  });

  it("deassign: removes the entry with the same bus, eventfd, address, length and datamatch; else ENOENT", (ctx) => {
    const { env, backend, fails } = ctx;
    const n = env.createEventNotifier();
    const other = env.createEventNotifier();
    backend.ioeventfd(fd(n, 0xc110n, 2, PIO | DATAMATCH, 5n));
    const misses: Array<[KvmIoeventfd, string]> = [
      [fd(other, 0xc110n, 2, PIO | DATAMATCH | DEASSIGN, 5n), "other eventfd"],
      [fd(n, 0xc112n, 2, PIO | DATAMATCH | DEASSIGN, 5n), "other address"],
      [fd(n, 0xc110n, 4, PIO | DATAMATCH | DEASSIGN, 5n), "other length"],
      [fd(n, 0xc110n, 2, PIO | DATAMATCH | DEASSIGN, 6n), "other datamatch"],
      [fd(n, 0xc110n, 2, PIO | DEASSIGN, 5n), "wildcard request"],
      [fd(n, 0xc110n, 2, DATAMATCH | DEASSIGN, 5n), "MMIO bus"],
    ];
    for (const [request, what] of misses) fails("ENOENT", () => backend.ioeventfd(request), what);
    backend.ioeventfd(fd(n, 0xc110n, 2, PIO | DATAMATCH | DEASSIGN, 5n));
    fails("ENOENT", () => backend.ioeventfd(fd(n, 0xc110n, 2, PIO | DATAMATCH | DEASSIGN, 5n)), "second deassign");
    // The trigger is free again.
    backend.ioeventfd(fd(other, 0xc110n, 2, PIO | DATAMATCH, 5n));
  });

  it("deassign of a wildcard entry ignores the datamatch value of the request", ({ env, backend }) => {
    const n = env.createEventNotifier();
    backend.ioeventfd(fd(n, MMIO, 4));
    backend.ioeventfd(fd(n, MMIO, 4, DEASSIGN, 1234n));
    backend.ioeventfd(fd(n, MMIO, 4));
  });

  guestIt("ioeventfd_in_range: an MMIO store at the exact address and length signals without an exit", async (ctx) => {
    const { env, backend, guest, expect } = ctx;
    const wild = env.createEventNotifier();
    const match = env.createEventNotifier();
    backend.ioeventfd(fd(wild, MMIO, 4));
    backend.ioeventfd(fd(match, MMIO + 0x100n, 1, DATAMATCH, 0x41n));
    expect(await guest.write(MMIO, 7n, 4), "wildcard hit").toBe("none");
    expect(await guest.write(MMIO, 7n, 2), "other length").toBe("exit");
    expect(await guest.write(MMIO + 0x100n, 0x41n, 1), "datamatch hit").toBe("none");
    expect(await guest.write(MMIO + 0x100n, 0x42n, 1), "datamatch miss").toBe("exit");
    expect(guest.readNotifier(wild), "wildcard signals").toBe(1);
    expect(guest.readNotifier(match), "datamatch signals").toBe(1);
    expect(guest.readNotifier(match), "after the read").toBe(0);
  });

  guestIt("a PIO ioeventfd is signalled by a matching `out` only", async ({ env, backend, guest, expect }) => {
    const n = env.createEventNotifier();
    backend.ioeventfd(fd(n, 0xc110n, 2, PIO | DATAMATCH, 3n));
    expect(await guest.pioWrite(0xc110, 3, 2), "match").toBe("none");
    expect(await guest.pioWrite(0xc110, 4, 2), "miss").toBe("exit");
    expect(guest.readNotifier(n), "signals").toBe(1);
  });
}
