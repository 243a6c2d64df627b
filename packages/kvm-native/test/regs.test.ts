import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeLayout, REG_NAMES, SEGMENT_NAMES } from "../src/binding.js";
import { decodeRegs, decodeSregs, encodeRegs, encodeSregs, type Regs, type Sregs } from "../src/regs.js";

const loaded = loadBinding();

describe.skipIf(!isBinding(loaded))("kvm_regs / kvm_sregs codec (offsets from the addon's offsetof)", () => {
  const layout = (loaded as { layout: NativeLayout }).layout;
  const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
  const byte = fc.integer({ min: 0, max: 255 });
  const segment = fc.record({
    base: u64,
    limit: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    selector: fc.integer({ min: 0, max: 0xffff }),
    type: byte,
    present: byte,
    dpl: byte,
    db: byte,
    s: byte,
    l: byte,
    g: byte,
    avl: byte,
    unusable: byte,
  });
  const dtable = fc.record({ base: u64, limit: fc.integer({ min: 0, max: 0xffff }) });
  const regs = fc.record(Object.fromEntries(REG_NAMES.map((n) => [n, u64]))) as fc.Arbitrary<Regs>;
  const sregs = fc.record({
    ...Object.fromEntries(SEGMENT_NAMES.map((n) => [n, segment])),
    gdt: dtable,
    idt: dtable,
    cr0: u64,
    cr2: u64,
    cr3: u64,
    cr4: u64,
    cr8: u64,
    efer: u64,
    apicBase: u64,
    interruptBitmap: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  }) as unknown as fc.Arbitrary<Sregs>;

  it("layout matches the x86-64 ABI of <linux/kvm.h> (kvm_run io/mmio offsets)", () => {
    expect(layout.run).toMatchObject({
      exitReason: 8,
      ioDirection: 32,
      ioSize: 33,
      ioPort: 34,
      ioCount: 36,
      ioDataOffset: 40,
      mmioPhysAddr: 32,
      mmioData: 40,
      mmioLen: 48,
      mmioIsWrite: 52,
    });
    expect([layout.regs.size, layout.sregs.size, layout.segment.size]).toEqual([144, 312, 24]);
  });

  it("regs: decode(encode(r)) is r", () => {
    fc.assert(
      fc.property(regs, (r) => {
        expect(decodeRegs(layout, encodeRegs(layout, r))).toEqual(r);
      }),
    );
  });

  it("sregs: decode(encode(s)) is s", () => {
    fc.assert(
      fc.property(sregs, (s) => {
        expect(decodeSregs(layout, encodeSregs(layout, s))).toEqual(s);
      }),
    );
  });

  it("rax sits at byte 0 and rip at byte 128, little endian (struct kvm_regs)", () => {
    const r = Object.fromEntries(REG_NAMES.map((n) => [n, 0n])) as Regs;
    r.rax = 0x0102n;
    r.rip = 0x1000n;
    const bytes = encodeRegs(layout, r);
    expect([bytes[0], bytes[1], bytes[128], bytes[129]]).toEqual([2, 1, 0, 0x10]);
  });

  it("bad values throw a KvmError naming the field", () => {
    const r = Object.fromEntries(REG_NAMES.map((n) => [n, 0n])) as Regs;
    expect(() => encodeRegs(layout, { ...r, rip: -1n })).toThrow(/regs\.rip/);
    expect(() => encodeRegs(layout, { ...r, rax: 1 as unknown as bigint })).toThrow(
      expect.objectContaining({ name: "KvmError", code: "EINVAL" }),
    );
    const s = fc.sample(sregs, 1)[0]!;
    expect(() => encodeSregs(layout, { ...s, cs: { ...s.cs, selector: 0x10000 } })).toThrow(/sregs\.cs\.selector/);
    expect(() => encodeSregs(layout, { ...s, interruptBitmap: new Uint8Array(3) })).toThrow(/interruptBitmap/);
    expect(() => encodeSregs(layout, null as unknown as Sregs)).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });
});
