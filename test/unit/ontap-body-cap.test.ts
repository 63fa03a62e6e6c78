import { mkdtempSync, rmSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isOntapError, type OntapError } from "../../src/ontap/index.js";
import { createTransport, DEFAULT_MAX_RESPONSE_BYTES, RESPONSE_TOO_LARGE } from "../../src/ontap/transport.js";
import { generateServingCert } from "../../src/testenv/index.js";

/**
 * The cap on ONTAP answer bodies (src/ontap/transport.ts): an answer over it is an OntapError with code
 * ONTAP_RESPONSE_TOO_LARGE whose message names the cap, never a process that runs out of heap. Five 30 MiB
 * answers at once ended the controller under the image's 192 MiB old space with the old 64 MiB cap.
 */

let server: Server;
let url: string;
let dir: string;
let ca: string;
let answer: (res: ServerResponse) => void = (res) => res.end();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ontap-body-cap-"));
  const cert = await generateServingCert(dir, "ontap-body-cap");
  ca = cert.caCertPem;
  server = createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    req.resume();
    req.on("end", () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const ctx = { cluster: "cap", operation: "list SVMs", method: "GET", endpoint: "/api/svm/svms", secrets: [] };

/** A JSON answer of about `bytes`, written in 64 KiB chunks without a Content-Length (chunked), or with one. */
function bigJson(bytes: number, declareLength: boolean) {
  return (res: ServerResponse) => {
    const record = `{"name":"svm","uuid":"${"0".repeat(36)}"},`;
    const count = Math.ceil(bytes / record.length);
    const head = '{"records":[';
    const tail = `{"name":"last"}],"num_records":${count + 1}}`;
    const total = head.length + count * record.length + tail.length;
    res.writeHead(200, { "content-type": "application/hal+json", ...(declareLength ? { "content-length": String(total) } : {}) });
    res.write(head);
    const chunk = record.repeat(Math.floor(65_536 / record.length));
    let left = count;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, Math.floor(65_536 / record.length));
        left -= n;
        const ok = res.write(n === Math.floor(65_536 / record.length) ? chunk : record.repeat(n));
        if (!ok) {
          res.once("drain", pump);
          return;
        }
      }
      res.end(tail);
    };
    res.on("error", () => {});
    pump();
  };
}

async function caught(promise: Promise<unknown>): Promise<OntapError> {
  try {
    await promise;
  } catch (err) {
    if (isOntapError(err)) return err;
    throw err;
  }
  throw new Error("expected an OntapError");
}

describe("ONTAP answer body cap", () => {
  it("is 4 MiB by default: a 5 MiB streamed answer is an error with code ONTAP_RESPONSE_TOO_LARGE naming the cap", async () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(4 * 1024 * 1024);
    const transport = createTransport({ name: "cap", url, username: "admin", password: "Cap-Admin-Passw0rd", ca });
    answer = bigJson(5 * 1024 * 1024, false);
    const err = await caught(transport.send({ method: "GET", path: "/api/svm/svms" }, ctx));
    expect(err.code).toBe(RESPONSE_TOO_LARGE);
    expect(err.kind).toBe("invalid-response");
    expect(err.transient).toBe(false);
    expect(err.message).toContain("larger than 4 MiB");
    expect(err.message).toContain("maxResponseBytes");
    // The transport is still usable: the next (small) answer is read.
    answer = (res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"name":"cap"}');
    };
    expect((await transport.send({ method: "GET", path: "/api/cluster" }, ctx)).body).toEqual({ name: "cap" });
    await transport.close();
  });

  it("refuses a declared Content-Length over the cap before reading it, and reads an answer under the cap whole", async () => {
    const transport = createTransport({ name: "cap", url, username: "admin", password: "Cap-Admin-Passw0rd", ca, maxResponseBytes: 256 * 1024 });
    answer = bigJson(300 * 1024, true);
    const err = await caught(transport.send({ method: "GET", path: "/api/svm/svms" }, ctx));
    expect(err.code).toBe(RESPONSE_TOO_LARGE);
    expect(err.message).toContain(`larger than ${256 * 1024} bytes`);
    answer = bigJson(200 * 1024, false);
    const ok = await transport.send({ method: "GET", path: "/api/svm/svms" }, ctx);
    expect((ok.body as { records: unknown[] }).records.length).toBeGreaterThan(1000);
    await transport.close();
  });

  it("five 30 MiB answers at once are five errors, each read stopped at the cap", async () => {
    const transport = createTransport({ name: "cap", url, username: "admin", password: "Cap-Admin-Passw0rd", ca });
    answer = bigJson(30 * 1024 * 1024, false);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => transport.send({ method: "GET", path: "/api/svm/svms" }, ctx)));
    expect(results.map((r) => (r.status === "rejected" && isOntapError(r.reason) ? r.reason.code : r.status))).toEqual(Array(5).fill(RESPONSE_TOO_LARGE));
    await transport.close();
  });
});
