export { canMerge, type FlatRange, flatRangeEqual } from "./flat-range.js";
export { FlatView } from "./flatview.js";
export { flatViewRootStep, getFlatViewRoot, type RootChainRegion } from "./flatview-root.js";
export { type ChunkSplice, RangeChunks } from "./range-chunks.js";
export { type AddrWindow, coalesce, regionWindows } from "./region-windows.js";
export { type RenderOptions, renderFlatView, renderWindow } from "./render.js";
export { type RangeSplice, rerenderFlatView, rerenderWithEdit, type ViewEdit } from "./rerender.js";
export { simplify } from "./simplify.js";
export { FlatViewTable, type ViewUser } from "./view-table.js";
