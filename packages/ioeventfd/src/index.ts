export { type EventNotifier, type IoeventfdRecord, ioeventfdBefore, ioeventfdEqual } from "@memtopo/region-tree";
export { collectIoeventfds } from "./collect.js";
export {
  type CollectedIoeventfds,
  collectIoeventfdList,
  recollectIoeventfds,
  recollectIoeventfdsIn,
} from "./collected.js";
export { diffIoeventfds, type IoeventfdOrder } from "./diff.js";
export { replayIoeventfdAdd, replayIoeventfdDel } from "./replay.js";
export { sectionFromIoeventfd } from "./section.js";
