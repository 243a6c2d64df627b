export { type ImportQemuInput, type ImportQemuResult, importQemu } from "./import/import-qemu.js";
export { type FlatOptions, printMtreeFlat } from "./mtree/flat.js";
export { hex16 } from "./mtree/format.js";
export { printMtree, type TreeOptions } from "./mtree/tree.js";
