import { describe, expect, it } from "vitest";
import { TextSink } from "../../src/mtree/text-sink.js";

describe("TextSink (a printout joined a chunk at a time)", () => {
  it("gives every piece in order across chunk boundaries, as one join would", () => {
    for (const count of [0, 1, 4095, 4096, 4097, 8192, 10_001]) {
      const pieces = Array.from({ length: count }, (_, i) => `${i.toString(16)}\n`);
      const sink = new TextSink();
      for (const p of pieces) sink.push(p);
      expect(sink.text()).toBe(pieces.join(""));
    }
  });

  it("can be read more than once, and keeps what is pushed after a read", () => {
    const sink = new TextSink();
    sink.push("a");
    expect(sink.text()).toBe("a");
    sink.push("b");
    expect(sink.text()).toBe("ab");
  });
});
