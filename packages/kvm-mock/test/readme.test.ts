import path from "node:path";
import { runReadmeExamples } from "@memtopo/test-support";
import { expect, it } from "vitest";

it("the README example runs and prints what it says", async () => {
  const [out] = await runReadmeExamples(path.join(import.meta.dirname, "../README.md"));
  expect(out).toBe(
    [
      "KVM_SET_USER_MEMORY_REGION: EEXIST: 0x9f000+0x2000 overlaps slot 0 at 0x0+0xa0000",
      "ram ab",
      "100",
      "ioeventfd mmio-exit 1",
      "KVM_SET_USER_MEMORY_REGION: ENOMEM: injected fault",
      '[{"gpa":"0x0","size":"0xa0000","flags":["log-dirty-pages"]}]',
      "setUserMemoryRegion, setUserMemoryRegion EEXIST, getDirtyLog, ioeventfd, setUserMemoryRegion ENOMEM",
    ].join("\n"),
  );
});
