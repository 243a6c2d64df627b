import { packageTestConfig } from "../../vitest.shared.ts";

export default packageTestConfig({ testTimeout: 300_000 });
