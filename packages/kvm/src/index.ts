export * from "./backend.js";
export * from "./errors.js";
