import { describe, expect, it } from "vitest";
import { isZeroPage } from "../src/index.js";

// QEMU's buffer_is_zero: a page is sent as a zero marker (or left out of round 1) only when every byte is zero.
describe("isZeroPage", () => {
  it("is true for a zero page, and false when any one byte of it is not zero", () => {
    const page = new Uint8Array(4096);
    expect(isZeroPage(page)).toBe(true);
    for (let at = 0; at < page.length; at++) {
      for (const value of [1, 0x80]) {
        page[at] = value;
        if (isZeroPage(page)) throw new Error(`byte ${at} = ${value} read as zero`);
        page[at] = 0;
      }
    }
    expect(isZeroPage(page)).toBe(true);
  });

  it("looks only at its own bytes: a page inside a larger buffer, at any alignment, and a short last page", () => {
    const buffer = new Uint8Array(3 * 4096);
    buffer[4096 - 1] = 1;
    buffer[2 * 4096 + 1] = 1;
    expect(isZeroPage(buffer.subarray(4096, 2 * 4096))).toBe(true);
    expect(isZeroPage(buffer.subarray(4096 - 1, 2 * 4096 - 1))).toBe(false);
    expect(isZeroPage(buffer.subarray(2 * 4096 - 3, 3 * 4096 - 3))).toBe(false);
    expect(isZeroPage(buffer.subarray(4096, 4096 + 100))).toBe(true);
    expect(isZeroPage(buffer.subarray(2 * 4096, 2 * 4096 + 100))).toBe(false);
  });
});
