export { canMerge, type FlatRange, flatRangeEqual } from "./flat-range.js";
export { FlatView } from "./flatview.js";
export { getFlatViewRoot } from "./flatview-root.js";
export { type RenderOptions, renderFlatView } from "./render.js";
export { simplify } from "./simplify.js";
