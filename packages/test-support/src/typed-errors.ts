import { expect } from "vitest";

/** An error class whose instances carry a stable `code` (MemtopoError; this package sits below region-tree). */
type CodedErrorClass<E extends Error & { readonly code: string }> = abstract new (...args: never[]) => E;

/**
 * The two expectations of the robustness tests, for one typed-error base class (pass `MemtopoError`):
 * `expectCode` wants that class with `code` and returns the error; `expectLoadsOrTypedError` lets a call
 * work or throw that class with a stable `E_…` code, and rethrows anything else.
 */
export function typedErrorExpectations<E extends Error & { readonly code: string }>(base: CodedErrorClass<E>) {
  function expectCode(run: () => unknown, code: string): E {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(base);
      expect((error as E).code).toBe(code);
      return error as E;
    }
    throw new Error(`expected ${code}, nothing was thrown`);
  }
  function expectLoadsOrTypedError(run: () => unknown): "ok" | "error" {
    try {
      run();
      return "ok";
    } catch (error) {
      if (!(error instanceof base)) throw error;
      expect(error.code).toMatch(/^E_[A-Z0-9_]+$/);
      return "error";
    }
  }
  return { expectCode, expectLoadsOrTypedError };
}
