export * from "./crds.js";
export * from "./health.js";
export * from "./managed-resource.js";
export * from "./names.js";
export * from "./render.js";
export * from "./types.js";
export * from "./orchestrator.js";
export * from "./release.js";
