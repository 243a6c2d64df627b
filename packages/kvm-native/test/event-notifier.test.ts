import { describe, expect, it } from "vitest";
import { isBinding, loadBinding, type NativeBinding } from "../src/binding.js";
import { EventFdNotifier } from "../src/index.js";

const loaded = loadBinding();

describe.skipIf(!isBinding(loaded))("EventFdNotifier (eventfd)", () => {
  const binding = loaded as NativeBinding;

  it("signal() adds 1; read() returns the count and resets it", () => {
    const n = new EventFdNotifier(binding);
    expect(typeof n.fd).toBe("number");
    expect(n.read()).toBe(0n);
    n.signal();
    n.signal();
    n.signal();
    expect(n.read()).toBe(3n);
    expect(n.read()).toBe(0n);
    n.close();
  });

  it("has a unique id per notifier", () => {
    const a = new EventFdNotifier(binding);
    const b = new EventFdNotifier(binding);
    expect(a.id).not.toBe(b.id);
    a.close();
    b.close();
  });

  it("after close: no fd, and signal/read throw a KvmError instead of touching some other fd", () => {
    const n = new EventFdNotifier(binding);
    const fd = n.fd!;
    n.close();
    expect(n.fd).toBeUndefined();
    expect(() => n.signal()).toThrow(expect.objectContaining({ name: "KvmError", code: "EINVAL" }));
    expect(() => binding.eventfdRead(fd)).toThrow(expect.objectContaining({ code: "EBADF" }));
    n.close();
  });
});
