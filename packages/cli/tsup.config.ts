import { packageBuildConfig } from "../../tsup.shared";

export default packageBuildConfig(["src/index.ts", "src/bin.ts"]);
