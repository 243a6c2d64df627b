import { packageBuildConfig } from "../../tsup.shared";

export default packageBuildConfig({ index: "src/index.ts", "workload/index": "src/workload/index.ts" });
