import {
  KVM_IOEVENTFD_FLAG_DATAMATCH as DATAMATCH,
  KVM_IOEVENTFD_FLAG_DEASSIGN as DEASSIGN,
  type KvmIoeventfd,
  KVM_IOEVENTFD_FLAG_PIO as PIO,
} from "@memtopo/kvm";
import type { EventNotifier } from "@memtopo/region-tree";
import { describe, expect, it } from "vitest";
import { KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY, MockKvm } from "../src/index.js";
import { expectErrno } from "./helpers.js";

function fd(notifier: EventNotifier, addr: bigint, len: number, flags = 0, datamatch = 0n): KvmIoeventfd {
  return { notifier, addr, len, flags, datamatch };
}

describe("KVM_IOEVENTFD (virt/kvm/eventfd.c kvm_assign_ioeventfd / kvm_deassign_ioeventfd)", () => {
  it("assigns MMIO and PIO ioeventfds on separate buses", () => {
    const kvm = new MockKvm();
    const n = kvm.createEventNotifier();
    kvm.ioeventfd(fd(n, 0xc110n, 2, PIO | DATAMATCH, 1n));
    kvm.ioeventfd(fd(n, 0xc110n, 2, DATAMATCH, 1n));
    expect(kvm.ioeventfds().map((e) => [e.bus, e.addr, e.len, e.wildcard, e.datamatch])).toEqual([
      ["pio", 0xc110n, 2, false, 1n],
      ["mmio", 0xc110n, 2, false, 1n],
    ]);
  });

  it("length: must be 1, 2, 4 or 8, or 0 for any length; anything else is EINVAL", () => {
    const kvm = new MockKvm();
    const n = kvm.createEventNotifier();
    for (const len of [3, 5, 6, 7, 16, 0xffff_ffff]) expectErrno(() => kvm.ioeventfd(fd(n, 0x1000n, len)), "EINVAL");
    for (const [i, len] of [1, 2, 4, 8, 0].entries()) kvm.ioeventfd(fd(n, 0x1000n + BigInt(i) * 16n, len));
    expect(kvm.ioeventfds()).toHaveLength(5);
  });

  it("length 0 needs KVM_CAP_IOEVENTFD_ANY_LENGTH, else EINVAL (MMIO and PIO)", () => {
    const kvm = new MockKvm({ ioeventfdAnyLength: false });
    const n = kvm.createEventNotifier();
    expectErrno(() => kvm.ioeventfd(fd(n, 0x1000n, 0)), "EINVAL");
    expectErrno(() => kvm.ioeventfd(fd(n, 0x1000n, 0, PIO)), "EINVAL");
    kvm.ioeventfd(fd(n, 0x1000n, 2));
  });

  it("length 0 cannot be combined with DATAMATCH (EINVAL)", () => {
    const kvm = new MockKvm();
    const n = kvm.createEventNotifier();
    expectErrno(() => kvm.ioeventfd(fd(n, 0x1000n, 0, DATAMATCH, 1n)), "EINVAL");
  });

  it("range: addr + len must not wrap around 2^64 (EINVAL)", () => {
    const kvm = new MockKvm();
    const n = kvm.createEventNotifier();
    expectErrno(() => kvm.ioeventfd(fd(n, 0xffff_ffff_ffff_fffcn, 4)), "EINVAL");
    kvm.ioeventfd(fd(n, 0xffff_ffff_ffff_fffbn, 4));
  });

  it("flags: bits beyond DATAMATCH, PIO, DEASSIGN and VIRTIO_CCW_NOTIFY are EINVAL", () => {
    const kvm = new MockKvm();
    const n = kvm.createEventNotifier();
    expectErrno(() => kvm.ioeventfd(fd(n, 0x1000n, 4, 0x10)), "EINVAL");
    kvm.ioeventfd(fd(n, 0x1000n, 4, KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY));
    expect(kvm.ioeventfds()[0]!.bus).toBe("virtio-ccw");
  });

  it("eventfd: a notifier this VM did not create is not an eventfd (EBADF)", () => {
    const kvm = new MockKvm();
    const foreign = new MockKvm().createEventNotifier();
    expectErrno(() => kvm.ioeventfd(fd(foreign, 0x1000n, 4)), "EBADF");
    expectErrno(() => kvm.ioeventfd(fd(foreign, 0x1000n, 4, DEASSIGN)), "EBADF");
  });

  it("no KVM_CAP_IOEVENTFD: the ioctl is unknown (ENOTTY)", () => {
    const kvm = new MockKvm({ ioeventfd: false });
    expectErrno(() => kvm.ioeventfd(fd(kvm.createEventNotifier(), 0x1000n, 4)), "ENOTTY");
  });

  describe("ioeventfd_check_collision: EEXIST regardless of the eventfd", () => {
    const cases: Array<[string, [number, number, bigint], [number, number, bigint]]> = [
      ["identical wildcard", [4, 0, 0n], [4, 0, 0n]],
      ["identical datamatch", [4, DATAMATCH, 7n], [4, DATAMATCH, 7n]],
      ["wildcard then datamatch", [4, 0, 0n], [4, DATAMATCH, 7n]],
      ["datamatch then wildcard", [4, DATAMATCH, 7n], [4, 0, 0n]],
      ["any length then a length", [0, 0, 0n], [2, DATAMATCH, 7n]],
      ["a length then any length", [8, DATAMATCH, 1n], [0, 0, 0n]],
    ];
    for (const [name, [len1, flags1, data1], [len2, flags2, data2]] of cases) {
      it(name, () => {
        const kvm = new MockKvm();
        kvm.ioeventfd(fd(kvm.createEventNotifier(), 0x2000n, len1, flags1, data1));
        expectErrno(() => kvm.ioeventfd(fd(kvm.createEventNotifier(), 0x2000n, len2, flags2, data2)), "EEXIST");
        expect(kvm.ioeventfds()).toHaveLength(1);
      });
    }

    it("no collision: other data, other length, other address, other bus", () => {
      const kvm = new MockKvm();
      const n = kvm.createEventNotifier();
      kvm.ioeventfd(fd(n, 0x2000n, 4, DATAMATCH, 1n));
      kvm.ioeventfd(fd(n, 0x2000n, 4, DATAMATCH, 2n));
      kvm.ioeventfd(fd(n, 0x2000n, 2, DATAMATCH, 1n));
      kvm.ioeventfd(fd(n, 0x2000n, 1, 0));
      kvm.ioeventfd(fd(n, 0x2001n, 0, 0));
      kvm.ioeventfd(fd(n, 0x2000n, 0, PIO));
      expect(kvm.ioeventfds()).toHaveLength(6);
    });
  });

  describe("kvm_deassign_ioeventfd_idx", () => {
    it("removes the entry with the same bus, eventfd, address, length and datamatch", () => {
      const kvm = new MockKvm();
      const n = kvm.createEventNotifier();
      kvm.ioeventfd(fd(n, 0x2000n, 4, DATAMATCH, 9n));
      kvm.ioeventfd(fd(n, 0x2000n, 4, DATAMATCH | DEASSIGN, 9n));
      expect(kvm.ioeventfds()).toEqual([]);
    });

    it("an unknown ioeventfd is ENOENT: wrong notifier, address, length, datamatch, wildcard or bus", () => {
      const kvm = new MockKvm();
      const n = kvm.createEventNotifier();
      const other = kvm.createEventNotifier();
      kvm.ioeventfd(fd(n, 0x2000n, 4, DATAMATCH, 9n));
      const misses = [
        fd(other, 0x2000n, 4, DATAMATCH | DEASSIGN, 9n),
        fd(n, 0x2004n, 4, DATAMATCH | DEASSIGN, 9n),
        fd(n, 0x2000n, 2, DATAMATCH | DEASSIGN, 9n),
        fd(n, 0x2000n, 4, DATAMATCH | DEASSIGN, 8n),
        fd(n, 0x2000n, 4, DEASSIGN, 9n),
        fd(n, 0x2000n, 4, PIO | DATAMATCH | DEASSIGN, 9n),
      ];
      for (const request of misses) expectErrno(() => kvm.ioeventfd(request), "ENOENT");
      expect(kvm.ioeventfds()).toHaveLength(1);
    });

    it("a wildcard entry is found whatever datamatch value the request carries", () => {
      const kvm = new MockKvm();
      const n = kvm.createEventNotifier();
      kvm.ioeventfd(fd(n, 0x2000n, 4, 0));
      kvm.ioeventfd(fd(n, 0x2000n, 4, DEASSIGN, 1234n));
      expect(kvm.ioeventfds()).toEqual([]);
    });

    it("deassigning twice: the second is ENOENT", () => {
      const kvm = new MockKvm();
      const n = kvm.createEventNotifier();
      kvm.ioeventfd(fd(n, 0x60n, 1, PIO));
      kvm.ioeventfd(fd(n, 0x60n, 1, PIO | DEASSIGN));
      expectErrno(() => kvm.ioeventfd(fd(n, 0x60n, 1, PIO | DEASSIGN)), "ENOENT");
    });

    it("deassign does not check the length (an odd length simply finds nothing)", () => {
      const kvm = new MockKvm();
      expectErrno(() => kvm.ioeventfd(fd(kvm.createEventNotifier(), 0x60n, 3, DEASSIGN)), "ENOENT");
    });
  });

  it("malformed requests are usage errors with a path", () => {
    const kvm = new MockKvm();
    const n = kvm.createEventNotifier();
    expect(() => kvm.ioeventfd({ ...fd(n, 0x10n, 4), len: -1 })).toThrow(
      expect.objectContaining({ code: "E_KVM_MOCK_ARGUMENT", path: "request.len" }),
    );
    expect(() => kvm.ioeventfd({ ...fd(n, 0x10n, 4), notifier: {} as never })).toThrow(
      expect.objectContaining({ path: "request.notifier" }),
    );
    expect(() => kvm.ioeventfd({ ...fd(n, 0x10n, 4), datamatch: 2n ** 64n })).toThrow(
      expect.objectContaining({ path: "request.datamatch" }),
    );
  });
});
