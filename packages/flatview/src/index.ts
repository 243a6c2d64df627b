export { canMerge, type FlatRange, flatRangeEqual } from "./flat-range.js";
export { FlatView } from "./flatview.js";
export { getFlatViewRoot } from "./flatview-root.js";
export { type AddrWindow, coalesce, regionWindows } from "./region-windows.js";
export { type RenderOptions, renderFlatView, rerenderFlatView } from "./render.js";
export { simplify } from "./simplify.js";
