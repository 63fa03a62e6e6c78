/**
 * The shoot webhook server alone in its own process, so a load test can read its memory from /proc:
 * generates a CA and serving certificate, listens on 127.0.0.1, prints one JSON line {port, ca}.
 */
import { generateCa, generateServerCert } from "../../src/webhook/certificates.js";
import { startWebhookServer } from "../../src/webhook/server.js";

const now = new Date();
const ca = await generateCa({ commonName: "load-test-ca", now, validityMs: 3600_000 });
const pair = await generateServerCert({ ca, commonName: "localhost", dnsNames: ["localhost"], now, validityMs: 3600_000 });
const server = await startWebhookServer({ port: 0, host: "127.0.0.1", keyPair: pair });
process.stdout.write(`${JSON.stringify({ port: Number(new URL(server.url).port), ca: ca.certPem })}\n`);
process.on("SIGTERM", () => {
  void server.stop().then(() => process.exit(0));
});
