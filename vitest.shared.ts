import { defineConfig } from "vitest/config";

// Tests run against each package's TypeScript source through the "@memtopo/source"
// export condition, so no build is needed; the JSON report feeds the summed
// "N passed, N failed" line that CI reads.
const conditions = ["@memtopo/source", "module", "node", "development|production"];

export function packageTestConfig(options: { testTimeout?: number; globalSetup?: string } = {}) {
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: conditions } },
    test: {
      include: ["test/**/*.test.ts"],
      testTimeout: options.testTimeout ?? 30_000,
      ...(options.globalSetup === undefined ? {} : { globalSetup: options.globalSetup }),
      reporters: ["default", ["json", { outputFile: "test-results.json" }]],
    },
  });
}
