// Moved to src/demo/ so the demo (built from src/) can start the same environment; tests keep this path.
export * from "../../src/demo/testenv.js";
