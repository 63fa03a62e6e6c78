export * from "./crds.js";
export * from "./health.js";
export * from "./managed-resource.js";
export * from "./names.js";
export * from "./render.js";
export * from "./types.js";
// The shoot webhook's configuration is a ManagedResource like Trident's; re-exported so the actuator renders every
// ManagedResource from one module. It lives in src/webhook/ next to the server it points at.
export { renderShootWebhookConfiguration, type ShootWebhookTarget } from "../webhook/config.js";
export * from "./orchestrator.js";
export * from "./release.js";
