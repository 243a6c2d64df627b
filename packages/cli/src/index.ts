export { type CliCommand, type CommandContext, UsageError } from "./context.js";
export {
  type DiffableMachine,
  type DiffEvent,
  type DiffSpace,
  diffEventListener,
  diffMachines,
  diffSpaces,
} from "./diff/machine-diff.js";
export { main } from "./main.js";
export { processContext } from "./process-context.js";
