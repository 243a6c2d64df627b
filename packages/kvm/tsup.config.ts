import { packageBuildConfig } from "../../tsup.shared";

export default packageBuildConfig({ index: "src/index.ts", "testing/index": "src/testing/index.ts" });
