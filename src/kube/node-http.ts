import { createRequire } from "node:module";

/**
 * node:http, loaded as CommonJS. An ESM import of node:http builds a namespace of all its exports, and that
 * reads its lazy `WebSocket`, `CloseEvent` and `MessageEvent` getters, which load Node's own bundled undici
 * with its web streams: about 1 MiB of source and 5 MiB of resident memory the controller never uses.
 * `require` leaves the getters alone. Types come from the ESM typings (erased at run time).
 */
export const nodeHttp = createRequire(import.meta.url)("node:http") as typeof import("node:http");
