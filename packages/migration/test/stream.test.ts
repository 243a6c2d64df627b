import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { IncomingMigration, MigrationError, SECTION, StreamReader, StreamWriter, saveSnapshot } from "../src/index.js";
import { runWorkload } from "../src/workload/index.js";
import { mockWorkload } from "./helpers.js";

const source = mockWorkload({ passLimit: 2 });
runWorkload(source.vcpu, { passes: 1 });
const { bytes: whole } = saveSnapshot(source.migratable);
const destination = mockWorkload();

/** Feeds `bytes` (in chunks of `chunk`) to a fresh incoming side of the destination and finishes. */
function load(bytes: Uint8Array, chunk = bytes.length): IncomingMigration {
  const incoming = new IncomingMigration(destination.migratable);
  for (let at = 0; at < bytes.length; at += chunk) incoming.push(bytes.subarray(at, at + chunk));
  incoming.finish();
  return incoming;
}

/** The refusal `load` ends with: a MigrationError with an E_STREAM_ code, the destination not committed. */
function refusal(bytes: Uint8Array, chunk?: number): string {
  let incoming: IncomingMigration | null = null;
  try {
    incoming = new IncomingMigration(destination.migratable);
    const step = chunk ?? bytes.length;
    for (let at = 0; at < bytes.length; at += step) incoming.push(bytes.subarray(at, at + step));
    incoming.finish();
  } catch (error) {
    expect(error).toBeInstanceOf(MigrationError);
    expect(incoming?.committed).toBe(false);
    expect(incoming?.state).toBe("failed");
    return (error as MigrationError).code;
  }
  throw new Error("the stream was accepted");
}

/** Where each section starts (after the 16-byte header). */
function sectionOffsets(bytes: Uint8Array): number[] {
  const out: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let at = 16; at < bytes.length; at += 12 + view.getUint32(at + 4, true)) out.push(at);
  return out;
}

describe("the stream format refuses what it cannot trust (docs/migration-stream.md)", () => {
  it("a whole stream loads, in one piece or in chunks of any size", () => {
    expect(load(whole).committed).toBe(true);
    expect(load(whole, 7).committed).toBe(true);
    expect(load(whole, 4099).committed).toBe(true);
  });

  it("a stream cut at any section boundary, or inside any section, is E_STREAM_TRUNCATED", () => {
    const offsets = sectionOffsets(whole);
    expect(offsets.length).toBeGreaterThan(5);
    for (const at of offsets) {
      expect(refusal(whole.subarray(0, at))).toBe("E_STREAM_TRUNCATED");
      expect(refusal(whole.subarray(0, at + 5))).toBe("E_STREAM_TRUNCATED");
    }
    expect(refusal(whole.subarray(0, whole.length - 1))).toBe("E_STREAM_TRUNCATED");
    expect(refusal(whole.subarray(0, 3))).toBe("E_STREAM_TRUNCATED");
  });

  it("a section dropped from the middle is refused (END counts the sections)", () => {
    const offsets = sectionOffsets(whole);
    const [a, b] = [offsets[2]!, offsets[3]!];
    const dropped = new Uint8Array(Buffer.concat([whole.subarray(0, a), whole.subarray(b)]));
    expect(refusal(dropped)).toBe("E_STREAM_TRUNCATED");
  });

  it("a flipped byte in any section's header, payload or CRC is refused with a typed code", () => {
    for (const at of [...sectionOffsets(whole).flatMap((o) => [o, o + 1, o + 4, o + 7, o + 8, o + 12])]) {
      if (at >= whole.length) continue;
      const bad = whole.slice();
      bad[at]! ^= 0x10;
      expect(refusal(bad)).toMatch(/^E_STREAM_(CHECKSUM|SECTION|TRUNCATED)$/);
    }
  });

  test.prop([fc.nat(), fc.integer({ min: 1, max: 255 }), fc.integer({ min: 1, max: 70_000 })], { numRuns: 40 })(
    "any corrupted byte anywhere is refused, whatever the chunking",
    (position, mask, chunk) => {
      const bad = whole.slice();
      const at = position % whole.length;
      bad[at]! ^= mask;
      expect(refusal(bad, chunk)).toMatch(/^E_STREAM_/);
    },
  );

  it("another magic or version is refused before anything is read", () => {
    const magic = whole.slice();
    magic[0] = 0x58;
    expect(refusal(magic)).toBe("E_STREAM_MAGIC");
    const version = whole.slice();
    version[8] = 2;
    expect(refusal(version)).toBe("E_STREAM_VERSION");
  });

  it("well-framed sections with bad contents are refused: a RAM page outside its block, an unknown device, a wrong version", () => {
    const frame = (build: (w: StreamWriter) => void): Uint8Array => {
      const chunks: Uint8Array[] = [];
      const w = new StreamWriter((c) => chunks.push(c.slice()));
      build(w);
      w.end();
      return new Uint8Array(Buffer.concat(chunks));
    };
    const map = sectionPayload(whole, SECTION.MAP);
    const page = new Uint8Array(8 + 8 + 4096);
    const view = new DataView(page.buffer);
    view.setUint32(4, 1, true);
    view.setBigUint64(8, 0x10_0000n, true); // pc.ram is 1 MiB: the page after its end
    expect(
      refusal(
        frame((w) => {
          w.section(SECTION.MAP, map);
          w.section(SECTION.RAM, page);
        }),
      ),
    ).toBe("E_STREAM_RAM");
    const device = (id: string, version: number) =>
      new TextEncoder().encode(
        JSON.stringify({ id, version, state: { pamRam: false, bar: { $bigint: "0xe0000000" } } }),
      );
    for (const [id, version] of [
      ["nobody", 1],
      ["workload/chipset", 2],
    ] as const) {
      expect(
        refusal(
          frame((w) => {
            w.section(SECTION.MAP, map);
            w.section(SECTION.DEVICE, device(id, version));
          }),
        ),
      ).toBe("E_STREAM_DEVICE");
    }
    expect(refusal(frame((w) => w.section(SECTION.RAM, page)))).toBe("E_STREAM_SECTION"); // RAM before MAP
  });

  it("the reader hands out nothing from a section before its CRC checked", () => {
    const reader = new StreamReader();
    const first = sectionOffsets(whole)[1]!;
    expect(reader.push(whole.subarray(0, first - 1))).toHaveLength(0);
    expect(reader.push(whole.subarray(first - 1, first)).map((s) => s.type)).toEqual([SECTION.MAP]);
  });
});

function sectionPayload(bytes: Uint8Array, type: number): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (const at of sectionOffsets(bytes)) {
    if (bytes[at] === type) return bytes.slice(at + 8, at + 8 + view.getUint32(at + 4, true));
  }
  throw new Error(`no section 0x${type.toString(16)}`);
}
