export { type ImportQemuInput, type ImportQemuResult, importQemu } from "./import/import-qemu.js";
