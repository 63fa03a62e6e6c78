/**
 * `npm run bench`: how much a reconcile costs. Starts a real kube-apiserver + etcd, a 2-cluster simulated
 * MetroCluster and the controller in this process, creates N shoots over P projects, and reports wall time
 * to convergence, requests per create and per no-op reconcile, and memory. Numbers are printed as a
 * Markdown table and written to bench/results.json.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Writable } from "node:stream";
import type { ComponentConfig } from "../src/config/component-config.js";
import { loadKubeConfig, startController } from "../src/controller.js";
import { startFakeResourceManager } from "../src/demo/fake-resource-manager.js";
import type { Extension } from "../src/extension/types.js";
import { createKubeClient } from "../src/kube/client.js";
import { Clusters, Extensions, Namespaces } from "../src/kube/resources.js";
import { createLogger } from "../src/log.js";
import { createMetrics, sumCounter } from "../src/metrics/index.js";
import { startSimulator } from "../src/simulator/index.js";
import { startTestEnv } from "../test/support/testenv.js";

const SHOOTS = Number(process.env.BENCH_SHOOTS ?? 40);
const PROJECTS = Number(process.env.BENCH_PROJECTS ?? 10);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 5);

const env = await startTestEnv();
const sim = await startSimulator({ clusters: 2, jobMs: 200 });
const kc = loadKubeConfig(env.kubeconfigPath);
const kube = createKubeClient(kc);
const rm = startFakeResourceManager(kube, { intervalMs: 100 });
const metrics = createMetrics();
const config: ComponentConfig = {
  clusters: sim.clusters.map((c) => ({ ...c, insecureSkipTlsVerify: false, timeoutMs: 5000 })),
  extensionClass: "bench",
  svmDeletionPolicy: "DeleteWhenUnused",
  escalation: { consecutiveFailures: 5, afterMs: 30 * 60_000 },
  clusterwideNetworkPolicy: true,
  shootWebhook: { url: "https://127.0.0.1:9443/webhooks/ontap", caFile: sim.clusters[0]!.caFile },
  requeue: { baseMs: 200, capMs: 5000 },
  warnings: [],
};
const controller = await startController({
  config,
  kubeconfig: kc,
  logger: createLogger({ level: "warn", stream: new Writable({ write: (_c, _e, cb) => cb() }) }),
  metrics,
  workers: WORKERS,
  healthPort: 0,
  host: "127.0.0.1",
  handleSignals: false,
  pollMs: 250,
  resyncMs: 0,
});

const shoots = Array.from({ length: SHOOTS }, (_, i) => {
  const project = `bp${i % PROJECTS}`;
  const n = i % PROJECTS;
  return { namespace: `shoot--${project}--s${i}`, project, n };
});
const counters = async () => ({
  ontap: await sumCounter(metrics.ontapRequestsTotal),
  kube: await sumCounter(metrics.kubeRequestsTotal),
  reconciles: await sumCounter(metrics.reconcilesTotal),
});
const settled = async (): Promise<boolean> => {
  const list = await kube.list<Extension>(Extensions);
  const mine = list.items.filter((e) => e.spec.class === "bench");
  return (
    mine.length === SHOOTS &&
    mine.every((e) => e.status?.lastOperation?.state === "Succeeded" && e.status.observedGeneration === e.metadata.generation && !e.metadata.annotations?.["gardener.cloud/operation"])
  );
};
const waitSettled = async () => {
  while (!(await settled())) await new Promise((r) => setTimeout(r, 100));
};

const started = performance.now();
for (const s of shoots) {
  await kube.create(Namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: s.namespace } });
  await kube.create(Clusters, {
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Cluster",
    metadata: { name: s.namespace },
    spec: { cloudProfile: {}, seed: {}, shoot: { metadata: { annotations: { "cluster.metal-stack.io/project": `00000000-0000-0000-0000-${String(s.n).padStart(12, "0")}` } } } },
  });
  await kube.create(Extensions, {
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Extension",
    metadata: { name: "ontap", namespace: s.namespace, annotations: { "gardener.cloud/operation": "reconcile" } },
    spec: { type: "ontap", class: "bench", providerConfig: { svmIpaddresses: { managementLif: `10.9.${s.n}.10`, dataLifs: [`10.9.${s.n}.11`, `10.9.${s.n}.12`] } } },
  });
}
await waitSettled();
const createSeconds = (performance.now() - started) / 1000;
await new Promise((r) => setTimeout(r, 500));
const afterCreate = await counters();

// A Gardener-triggered reconcile of every shoot, with nothing to change.
const noopStarted = performance.now();
for (const s of shoots) {
  await kube.mergePatch(Extensions, s.namespace, "ontap", { metadata: { annotations: { "gardener.cloud/operation": "reconcile" } } });
}
while ((await counters()).reconciles < afterCreate.reconciles + SHOOTS) await new Promise((r) => setTimeout(r, 50));
await waitSettled();
const noopSeconds = (performance.now() - noopStarted) / 1000;
await new Promise((r) => setTimeout(r, 300));
const afterNoop = await counters();
global.gc?.();
const memory = process.memoryUsage();

const results = {
  date: new Date().toISOString(),
  shoots: SHOOTS,
  projects: PROJECTS,
  workers: WORKERS,
  createAllSeconds: Number(createSeconds.toFixed(2)),
  ontapRequestsPerCreate: Number((afterCreate.ontap / SHOOTS).toFixed(1)),
  kubeRequestsPerCreate: Number((afterCreate.kube / SHOOTS).toFixed(1)),
  noopAllSeconds: Number(noopSeconds.toFixed(2)),
  ontapRequestsPerNoop: Number(((afterNoop.ontap - afterCreate.ontap) / SHOOTS).toFixed(1)),
  kubeRequestsPerNoop: Number(((afterNoop.kube - afterCreate.kube) / SHOOTS).toFixed(1)),
  rssMiB: Math.round(memory.rss / 2 ** 20),
  heapUsedMiB: Math.round(memory.heapUsed / 2 ** 20),
};
await controller.stop();
await rm.stop();
await sim.stop();
await env.stop();

console.log("| measure | value |\n|---|---|");
for (const [k, v] of Object.entries(results)) console.log(`| ${k} | ${v} |`);
writeFileSync(path.join(import.meta.dirname, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
process.exit(0);
