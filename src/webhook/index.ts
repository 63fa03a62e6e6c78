export * from "./config.js";
export * from "./json-patch.js";
export * from "./mutate.js";
export * from "./server.js";
