import path from "node:path";
import { startWebhookServer, type WebhookServer } from "../webhook/server.js";
import { generateServingCert } from "./ca.js";

/**
 * The controller's shoot webhook server on loopback with its own serving certificate: every shoot's
 * kube-apiserver of the world calls it, as a shoot calls the seed's webhook Service. Stoppable and
 * restartable on its port, so a test can prove failurePolicy Ignore.
 */
export interface LoopbackWebhook {
  readonly server: WebhookServer;
  /** The URL and CA bundle a shoot's webhook configuration names. */
  url: string;
  caFile: string;
  setRunning(running: boolean): Promise<void>;
  close(): Promise<void>;
}

export async function startLoopbackWebhook(dir: string): Promise<LoopbackWebhook> {
  const cert = await generateServingCert(path.join(dir, "webhook"), "gardener-extension-ontap-webhook");
  const start = (port: number) => startWebhookServer({ port, host: "127.0.0.1", certFile: cert.cert, keyFile: cert.key, certReloadIntervalMs: 0 });
  let server = await start(0);
  const port = Number(new URL(server.url).port);
  let running = true;
  return {
    get server() {
      return server;
    },
    get url() {
      return server.url;
    },
    caFile: cert.caCert,
    async setRunning(want: boolean) {
      if (want === running) return;
      if (!want) await server.stop();
      else server = await start(port);
      running = want;
    },
    async close() {
      if (running) await server.stop();
      running = false;
    },
  };
}
