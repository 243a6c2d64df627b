import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeBinding } from "../src/binding.js";
import { isAvailable, NativeKvm, probe } from "../src/index.js";

describe("probe() says why KVM is unusable instead of throwing", () => {
  it("on this machine: a result with a reason, printed for the log", () => {
    const result = isAvailable();
    console.log(`[kvm-native] isAvailable(): ${JSON.stringify(result)}`);
    expect(isAvailable()).toBe(result);
    if (result.ok) expect(result.apiVersion).toBe(12);
    else expect(result.reason).toMatch(/^(not-linux|unsupported-arch|no-binary|E[A-Z0-9]+|bad-api-version)$/);
  });

  it.skipIf(!isBinding(loadBinding()))("a missing device is ENOENT, a device that is not KVM is ENODEV", () => {
    expect(probe({ devicePath: "/nonexistent/kvm" })).toMatchObject({ ok: false, reason: "ENOENT" });
    expect(probe({ devicePath: "/dev/null" })).toMatchObject({ ok: false, reason: "ENODEV" });
  });

  it("an injected binding whose device check fails is reported, not thrown", () => {
    const fake = {
      layout: { apiVersion: 12 },
      probeDevice: () => {
        throw Object.assign(new Error("EACCES: Permission denied, open"), { code: "EACCES", errno: 13 });
      },
    } as unknown as NativeBinding;
    expect(probe({ nativeBinding: fake })).toMatchObject({ ok: false, reason: "EACCES" });
    const old = { ...fake, probeDevice: () => 11 } as unknown as NativeBinding;
    expect(probe({ nativeBinding: old })).toMatchObject({ ok: false, reason: "bad-api-version" });
  });

  it.skipIf(!isBinding(loadBinding()))("NativeKvm.open on a missing device throws a KvmError with the errno", () => {
    expect(() => NativeKvm.open({ devicePath: "/nonexistent/kvm" })).toThrow(
      expect.objectContaining({ name: "KvmError", code: "ENOENT", operation: "KVM_CREATE_VM" }),
    );
  });
});
