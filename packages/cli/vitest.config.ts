import { packageTestConfig } from "../../vitest.shared";

export default packageTestConfig({ globalSetup: "./test/global-setup.ts", testTimeout: 120_000 });
