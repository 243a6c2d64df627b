export { FORGED_NAMES } from "./forged-names.js";
export { machineArb } from "./machine-arbitrary.js";
export { caseNames, casesDir, readCase } from "./qemu-cases.js";
export { runReadmeExamples, runSnippet } from "./readme-examples.js";
export { typedErrorExpectations } from "./typed-errors.js";
