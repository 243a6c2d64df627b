export { svgToHtml } from "./html.js";
export {
  type PictureAddressSpace,
  type PictureLane,
  type PictureRange,
  pictureLanes,
  type RangeKind,
  type RegionPath,
  regionsAt,
} from "./model.js";
export { KIND_STYLE, renderLanesSvg, type SvgOptions } from "./render-svg.js";

import { svgToHtml } from "./html.js";
import { type PictureAddressSpace, pictureLanes } from "./model.js";
import { renderLanesSvg, type SvgOptions } from "./render-svg.js";

/** The memory map of some address spaces as an SVG document: one lane per distinct flat view. */
export function renderMemoryMapSvg(spaces: readonly PictureAddressSpace[], options: SvgOptions = {}): string {
  return renderLanesSvg(pictureLanes(spaces), options);
}

/** The same picture in an HTML page that shows each range's details on hover. */
export function renderMemoryMapHtml(spaces: readonly PictureAddressSpace[], options: SvgOptions = {}): string {
  return svgToHtml(renderMemoryMapSvg(spaces, options), options.title ?? "memory map");
}
