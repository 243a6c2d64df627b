export { type CliCommand, type CommandContext, UsageError } from "./context.js";
export { main } from "./main.js";
export { processContext } from "./process-context.js";
