import path from "node:path";
import { loadKubeConfig } from "../kube/config.js";
import { createKubeClient, type KubeClient } from "../kube/client.js";
import { generateServingCert, type ShootEnv, startShootEnv, startShootWorkloads } from "../testenv/index.js";
import { startTridentOperatorStandIn } from "../testenv/trident-operator.js";
import { startWebhookServer } from "../webhook/server.js";
import { DEMO_SHOOTS } from "./demo-shoots.js";
import type { Display } from "./display.js";
import type { RunningParts } from "./running-parts.js";

export interface Shoots {
  /** The controller's shoot webhook, which each shoot's kube-apiserver calls on loopback. */
  webhook: { url: string; caFile: string };
  /** Per shoot namespace: its own kube-apiserver + etcd and gardener-resource-manager. */
  envs: Map<string, ShootEnv>;
  clients: Map<string, KubeClient>;
}

/**
 * The shoot side: the webhook server, then one shoot per Extension (kube-apiserver + etcd, and
 * gardener-resource-manager for that shoot namespace), with the stand-ins for what needs kubelets.
 */
export async function startShoots(display: Display, running: RunningParts, dir: string, seedKubeconfig: string): Promise<Shoots> {
  const webhookCert = await generateServingCert(path.join(dir, "webhook"), "gardener-extension-ontap-webhook");
  const webhook = await startWebhookServer({ port: 0, host: "127.0.0.1", certFile: webhookCert.cert, keyFile: webhookCert.key, certReloadIntervalMs: 0 });
  running.add("shoot webhook server", () => webhook.stop(), () => [`shoot webhook ${new URL(webhook.url).port}`]);

  const step = display.step("starting a shoot for each of the 3 shoots: kube-apiserver + etcd and gardener-resource-manager (seed -> shoot)");
  const t1 = Date.now();
  const envs = new Map<string, ShootEnv>();
  const startedShoots = await Promise.allSettled(
    DEMO_SHOOTS.map(async (s) => ({ namespace: s.namespace, env: await startShootEnv({ seedKubeconfigPath: seedKubeconfig, namespaces: [s.namespace] }) })),
  );
  for (const r of startedShoots) {
    if (r.status === "fulfilled") {
      envs.set(r.value.namespace, r.value.env);
      const shootEnv = r.value.env;
      const namespace = r.value.namespace;
      running.add(
        `shoot ${namespace}`,
        () => shootEnv.stop(),
        () => [`${namespace} kube-apiserver ${new URL(shootEnv.server).port}`, `${namespace} gardener-resource-manager ${new URL(shootEnv.resourceManager.healthUrl).port}`],
      );
    }
  }
  const failedShoot = startedShoots.find((r) => r.status === "rejected");
  if (failedShoot) throw failedShoot.reason;
  const clients = new Map<string, KubeClient>();
  for (const [namespace, shootEnv] of envs) {
    running.trackPids(shootEnv.dir, ["kube-apiserver", "etcd", "gardener-resource-manager"], `${namespace} `);
    const client = createKubeClient(loadKubeConfig(shootEnv.kubeconfigPath), { timeoutMs: 10_000 });
    clients.set(namespace, client);
    // What kubelets, the workload controllers and Trident's operator would do in a real shoot.
    const workloads = startShootWorkloads(client);
    const operator = startTridentOperatorStandIn(client);
    running.add(`stand-ins in ${namespace}`, () => Promise.all([workloads.stop(), operator.stop()]));
  }
  step.done(`3 shoots ready in ${((Date.now() - t1) / 1000).toFixed(1)}s, each with its own kube-apiserver and gardener-resource-manager; shoot webhook at ${webhook.url}`);
  return { webhook: { url: webhook.url, caFile: webhookCert.caCert }, envs, clients };
}
