// Moved to src/demo/ so the demo (built from src/) can inject the same faults; tests keep this path.
export * from "../../src/demo/fault-proxy.js";
