import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CoreV1Api, type KubeConfig, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import type { KubeClient } from "../../src/kube/client.js";
import { ConfigMaps, Secrets } from "../../src/kube/resources.js";
import { REPO_ROOT, type RenderedObject } from "./chart.js";
import { freePorts } from "../../src/testenv/index.js";

/**
 * The parts of a kubelet a test needs to run the chart's pod as a local process: apply the rendered objects
 * for real (server-side apply, as `helm upgrade --server-side` does), get a token of the chart's
 * ServiceAccount (TokenRequest, what the kubelet mounts), write the pod's ConfigMap and Secret volumes under a
 * root directory (keys, items and defaultMode as the kubelet would), and start the container's args and env.
 * Paths under /etc/gardener-extension-ontap are moved under that root, the only liberty taken: a test cannot
 * write /etc, and the process runs outside a container.
 */
export const MOUNT_PREFIX = "/etc/gardener-extension-ontap";

export async function applyManifests(kc: KubeConfig, objects: RenderedObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const o of objects) {
    // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are free-form
    await api.patch(o as any, undefined, undefined, "gardenlet-helm", true, PatchStrategy.ServerSideApply);
  }
}

/** Removes what applyManifests created (cluster-scoped objects would otherwise outlive the test). */
export async function deleteManifests(kc: KubeConfig, objects: RenderedObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const o of [...objects].reverse()) {
    // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are free-form
    await api.delete(o as any).catch(() => undefined);
  }
}

export async function serviceAccountToken(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const answer = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const token = answer.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}

export interface ChartPod {
  proc: ChildProcess;
  healthPort: number;
  logFile: string;
  root: string;
  args: string[];
  env: Record<string, string>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  readyz(): Promise<number | undefined>;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

interface VolumeMount {
  name: string;
  mountPath: string;
}

/** Writes the container's volumes under `root` from the objects in the API server (not from the rendering). */
export async function materializeVolumes(kube: KubeClient, deployment: RenderedObject, root: string): Promise<void> {
  const namespace = deployment.metadata.namespace!;
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  for (const mount of (container.volumeMounts ?? []) as VolumeMount[]) {
    const volume = (pod.volumes ?? []).find((v: { name: string }) => v.name === mount.name);
    if (!volume) throw new Error(`volumeMount ${mount.name} has no volume`);
    const dir = path.join(root, mount.mountPath);
    mkdirSync(dir, { recursive: true });
    let data: Record<string, Buffer>;
    let mode: number;
    let items: Array<{ key: string; path: string }> | undefined;
    if (volume.secret) {
      const secret = await kube.get<{ data?: Record<string, string> }>(Secrets, namespace, volume.secret.secretName);
      if (!secret) throw new Error(`volume ${mount.name}: Secret ${namespace}/${volume.secret.secretName} does not exist (the pod would not start)`);
      data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64")]));
      mode = volume.secret.defaultMode ?? 0o644;
      items = volume.secret.items;
    } else if (volume.configMap) {
      const cm = await kube.get<{ data?: Record<string, string> }>(ConfigMaps, namespace, volume.configMap.name);
      if (!cm) throw new Error(`volume ${mount.name}: ConfigMap ${namespace}/${volume.configMap.name} does not exist`);
      data = Object.fromEntries(Object.entries(cm.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "utf8")]));
      mode = volume.configMap.defaultMode ?? 0o644;
      items = volume.configMap.items;
    } else {
      throw new Error(`volume ${mount.name}: only secret and configMap volumes are supported here`);
    }
    const selected = items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const item of selected) {
      const content = data[item.key];
      if (content === undefined) throw new Error(`volume ${mount.name}: key ${item.key} is missing (the pod would not start)`);
      const file = path.join(dir, item.path);
      const text = mount.mountPath.endsWith("/config") ? Buffer.from(content.toString("utf8").replaceAll(MOUNT_PREFIX, path.join(root, MOUNT_PREFIX))) : content;
      writeFileSync(file, text);
      chmodSync(file, mode);
    }
  }
}

/** Starts the Deployment's container as a process, with the token of its ServiceAccount in a kubeconfig. */
export async function startChartPod(opts: {
  kube: KubeClient;
  deployment: RenderedObject;
  kubeconfig: string;
  root: string;
  extraArgs?: string[];
  /** Move the webhook server to a free port too (values that keep the chart's fixed 10250, e.g. metal-roles'). */
  freeWebhookPort?: boolean;
}): Promise<ChartPod> {
  const { deployment, root } = opts;
  await materializeVolumes(opts.kube, deployment, root);
  const container = deployment.spec.template.spec.containers[0];
  const [healthPort = 0, webhookPort = 0] = await freePorts(2);
  const namespace = deployment.metadata.namespace!;
  const podName = `${deployment.metadata.name}-7d9f8c6b5-x2x4z`;
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[e.name] = namespace;
    else if (e.valueFrom?.fieldRef?.fieldPath === "metadata.name") env[e.name] = podName;
    else throw new Error(`env ${e.name}: unsupported source ${JSON.stringify(e.valueFrom)}`);
  }
  const args = (container.args as string[]).map((a) => a.replaceAll(MOUNT_PREFIX, path.join(root, MOUNT_PREFIX)));
  // The pod has a network namespace of its own; here the health port must be a free one.
  const port = (a: string) =>
    a.startsWith("--health-port=") ? `--health-port=${healthPort}` : opts.freeWebhookPort && a.startsWith("--webhook-port=") ? `--webhook-port=${webhookPort}` : a;
  const finalArgs = [...args.map(port), "--kubeconfig", opts.kubeconfig, ...(opts.extraArgs ?? [])];
  const logFile = path.join(root, "controller.log");
  const out = openSync(logFile, "a");
  const proc = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "src", "cli.ts"), ...finalArgs], {
    cwd: REPO_ROOT,
    stdio: ["ignore", out, out],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const get = async (p: string) => {
    try {
      const res = await fetch(`http://127.0.0.1:${healthPort}${p}`, { signal: AbortSignal.timeout(2000) });
      return { status: res.status, text: await res.text() };
    } catch {
      return undefined;
    }
  };
  return {
    proc,
    healthPort,
    logFile,
    root,
    args: finalArgs,
    env,
    async readyz() {
      return (await get("/readyz"))?.status;
    },
    async metric(name, labels = {}) {
      const text = (await get("/metrics"))?.text ?? "";
      let sum = 0;
      for (const line of text.split("\n")) {
        const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
        if (!m || m[1] !== `gardener_extension_ontap_${name}`) continue;
        const labelText = m[2] ?? "";
        if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(m[3]);
      }
      return sum;
    },
    exited,
    async kill(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export function readLog(pod: ChartPod): string {
  try {
    return readFileSync(pod.logFile, "utf8");
  } catch {
    return "";
  }
}
