import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Extension } from "../../src/extension/types.js";
import { CustomResourceDefinitions, Events, Extensions, Leases, Namespaces, Secrets } from "../../src/kube/resources.js";
import { WEBHOOK_CA_SECRET } from "../../src/webhook/cert-manager.js";
import { generateCa } from "../../src/webhook/certificates.js";
import { findObject, type RenderedObject, renderChart, writeValues } from "../support/chart.js";
import { applyManifests, type ChartPod, deleteManifests, readLog, serviceAccountToken, startChartPod } from "../support/chart-pod.js";
import { loadKubeConfig, testEnv } from "../support/kube-test-helpers.js";
import { chartRules, grantUses, requestAttributes, unusedGrants } from "../support/rbac.js";
import { freePorts, gardenletRequest, isExtensionReady } from "../../src/testenv/index.js";
import { createWorld, type Shoot, type World } from "../support/world.js";

// Runs on the real gardener-resource-manager (a shoot API server per shoot): what the controller asks the seed
// depends on what that resource manager does (its finalizers on ManagedResources, its conditions, when they
// turn healthy), so the requests recorded are those of an installation. The resource manager talks to the seed
// with its own identity, not through the proxy: only the chart's identity is recorded. Compared with the
// stand-in (2026-12-01, status, verb and path of every request of the first test): no request of a kind the
// stand-in did not also cause, and no rule newly used or unused; more of the same (Cluster GETs 9 -> 27,
// Extension status patches 14 -> 21, GETs of ManagedResources and their Secrets while a delete waits for them
// to go), as passes wait for the resource manager.

/**
 * The chart installed for real into a namespace named the way gardenlet names it
 * (`extension-<ControllerInstallation name>`), and the controller started from the rendered Deployment's args,
 * env and volumes with a token of the chart's ServiceAccount, so every request it makes is authorized by exactly
 * the chart's RBAC. All requests go through the Kubernetes fault proxy (no faults), which records them: a 403
 * fails the test, and so does a rule of the chart that no request needed.
 */
const SA = "gardener-extension-extension-ontap";

interface Installation {
  world: World;
  namespace: string;
  objects: RenderedObject[];
  pod: ChartPod;
}

let installed: Installation | undefined;
afterEach(async () => {
  const inst = installed;
  installed = undefined;
  if (!inst) return;
  await inst.pod.kill("SIGTERM");
  await deleteManifests(loadKubeConfig(testEnv().kubeconfigPath), inst.objects);
  await inst.world.close();
});

async function install(opts: {
  credentials: "values" | "existing-secret";
  webhook: boolean;
  /** Helm values of the takeover grant (default: the chart's). */
  takeover?: { goSecrets: { enabled: boolean; names?: string[] } };
  /** Called after the chart is applied and before the controller starts. */
  beforeStart?: (world: World, namespace: string) => Promise<void>;
}): Promise<Installation> {
  const world = await createWorld({ startController: false, faultProxy: true, clusters: 2 });
  const dir = mkdtempSync(path.join(tmpdir(), "chart-rbac-"));
  const namespace = `extension-ontap-${randomBytes(3).toString("hex").slice(0, 5)}`;
  await world.kube.create(Namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  const admin = loadKubeConfig(testEnv().kubeconfigPath);

  // An operator's own Secrets, created before the chart: ONTAP admin credentials + CA, the webhook's TLS pair.
  if (opts.credentials === "existing-secret") {
    for (const c of world.sim.clusters) {
      await world.kube.create(Secrets, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `ontap-admin-${c.name}`, namespace },
        stringData: { username: c.username, password: c.password, "ca.crt": readFileSync(c.caFile, "utf8") },
      });
    }
  }
  const [webhookPort = 0] = await freePorts(1);
  const clusters = world.sim.clusters.map((c) =>
    opts.credentials === "values"
      ? { name: c.name, url: c.url, username: c.username, password: c.password, ca: readFileSync(c.caFile, "utf8"), timeoutSeconds: 3 }
      : { name: c.name, url: c.url, credentialsSecret: `ontap-admin-${c.name}`, caSecret: `ontap-admin-${c.name}`, timeoutSeconds: 3 },
  );
  const values = writeValues(dir, "values.yaml", {
    // The storage health check every 2 s, so the lifecycle below sees its requests (the shoot access Secret) too.
    config: { extensionClass: world.config.extensionClass, requeue: { baseSeconds: 0.1, capSeconds: 1.5 }, healthCheck: { intervalSeconds: 2 }, clusters },
    webhook: opts.webhook ? { enabled: true, serverPort: webhookPort } : { enabled: false },
    // Renewed often enough that the lifecycle below sees renewals (patch), not only the create.
    heartbeat: { renewIntervalSeconds: 3 },
    // The test API server has no prometheus-operator CRDs and no garden namespace; the rules are checked by promtool.
    monitoring: { enabled: false },
    gardener: { version: "v1.149.3" },
    ...(opts.takeover ? { takeover: opts.takeover } : {}),
  });
  const objects = await renderChart({ namespace, valuesFiles: [values] });
  await applyManifests(admin, objects);

  await opts.beforeStart?.(world, namespace);
  const token = await serviceAccountToken(admin, namespace, SA);
  const kubeconfig = world.proxy!.kubeconfigFor(dir, { token });
  const pod = await startChartPod({
    kube: world.kube,
    deployment: findObject(objects, "Deployment"),
    kubeconfig,
    root: path.join(dir, "pod"),
    extraArgs: ["--poll-seconds", "0.2", "--resync-minutes", "0"],
  });
  installed = { world, namespace, objects, pod };
  // Generous: a cold start (tsx compiling the controller) takes 20-60 s on a loaded 2-core machine.
  const deadline = Date.now() + 180_000;
  while ((await pod.readyz()) !== 200) {
    if (pod.proc.exitCode !== null) throw new Error(`controller exited with ${pod.proc.exitCode}:\n${readLog(pod).slice(-3000)}`);
    if (Date.now() > deadline) {
      const failed = world.proxy!.requests().filter((r) => r.status >= 400).map((r) => `${r.status} ${r.method} ${r.url}`);
      throw new Error(`controller never became ready (args ${pod.args.join(" ")}); failed requests: ${failed.slice(0, 20).join("; ")}\n${readLog(pod).slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return installed;
}

/** Polls for `what`; generous, as the first step includes starting the shoot's API server and resource manager. */
async function waitFor(world: World, shoot: Shoot, what: string, predicate: (e: Extension) => boolean, pod: ChartPod) {
  try {
    return await world.waitFor(shoot, predicate, 150_000, what);
  } catch (err) {
    throw new Error(`${(err as Error).message}\ncontroller log tail:\n${readLog(pod).slice(-4000)}`);
  }
}

/** Ready as gardenlet decides it after a request (Gardener's `checkExtensionObject`). */
const succeeded = (e: Extension) => isExtensionReady(e);

describe("the chart's RBAC, as the controller's only permissions", () => {
  it("carries a shoot through create, no-op, spec change, migrate, restore and delete with no request refused and no rule unused", async () => {
    const { world, pod, objects, namespace } = await install({
      credentials: "values",
      webhook: true,
      beforeStart: async (w, ns) => {
        // The pod restarts 25 days into its webhook CA's 30: the CA is due, and is rotated (an update).
        const old = await generateCa({ commonName: "gardener-extension-ontap-webhook", now: new Date(Date.now() - 25 * 86_400_000), validityMs: 30 * 86_400_000 });
        await w.kube.create(Secrets, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: WEBHOOK_CA_SECRET, namespace: ns },
          stringData: { "ca.crt": old.certPem, "ca.key": old.keyPem },
        });
        // The Clusters watch starts 20 s late (the list before it is not delayed): a shoot created meanwhile is
        // not in the cache, and the Cluster is read from the server.
        w.proxy!.rules.add({ method: "GET", path: "^/apis/extensions\\.gardener\\.cloud/v1alpha1/clusters$", nth: 2, count: 1, action: { type: "delay", ms: 20_000 } });
        // One status write loses a race (409): the Extension is read again from the server.
        w.proxy!.rules.add({ method: "PATCH", path: "/extensions/ontap/status$", nth: 2, count: 1, action: { type: "error", status: 409, code: "Conflict" } });
      },
    });
    const shoot = await world.createShoot({ project: `rbac${randomBytes(2).toString("hex")}`, dataLifs: ["10.130.40.11"], managementLif: "10.130.40.10" });

    await waitFor(world, shoot, "create", succeeded, pod);
    // The shoot's own resource manager applied the ManagedResources: the operator's CRD is in the shoot.
    const inShoot = await world.shootOf(shoot);
    await expect.poll(async () => (await inShoot.kube.get(CustomResourceDefinitions, undefined, "tridentorchestrators.trident.netapp.io"))?.metadata, { timeout: 60_000 }).toBeDefined();
    // Gardener's heartbeat, renewed by the leader in the release namespace.
    const heartbeat = await world.kube.get<{ spec?: { holderIdentity?: string; renewTime?: string } }>(Leases, namespace, "gardener-extension-heartbeat");
    expect(heartbeat?.spec?.holderIdentity).toBe("gardener-extension-ontap");
    expect(Date.now() - Date.parse(heartbeat?.spec?.renewTime ?? "0")).toBeLessThan(120_000);
    // ...and renewed (a patch) on its 3 s interval, not only created: a fast run must not end before that.
    await expect
      .poll(async () => (await world.kube.get<{ spec?: { renewTime?: string } }>(Leases, namespace, "gardener-extension-heartbeat"))?.spec?.renewTime, { timeout: 20_000 })
      .not.toBe(heartbeat?.spec?.renewTime);
    // The webhook ManagedResource points at the release's Service and trusts the rotated CA and the old one.
    const webhookMr = await world.kube.get<{ data?: Record<string, string> }>(Secrets, shoot.namespace, "managedresource-extension-ontap-shoot");
    const webhookConfig = Buffer.from(Object.values(webhookMr?.data ?? {})[0] ?? "", "base64").toString("utf8");
    expect(webhookConfig).toContain(`url: https://gardener-extension-extension-ontap.${namespace}:443/shoot`);
    const caSecret = await world.kube.get<{ data?: Record<string, string> }>(Secrets, namespace, WEBHOOK_CA_SECRET);
    expect(caSecret?.data?.["previous-ca.crt"], "the due CA was rotated and kept as previous").toBeDefined();
    // The storage health check has written its shoot access Secret (the token requestor's) under the chart's RBAC.
    await expect.poll(async () => (await world.kube.get(Secrets, shoot.namespace, "shoot-access-extension-ontap-health"))?.metadata, { timeout: 30_000 }).toBeDefined();
    // No-op: Gardener's reconcile trigger on an unchanged spec.
    const before = await pod.metric("reconciles_total");
    await world.annotate(shoot, { "gardener.cloud/operation": "reconcile" });
    await waitFor(world, shoot, "no-op reconcile", (e) => succeeded(e), pod);
    await expect.poll(() => pod.metric("reconciles_total"), { timeout: 30_000 }).toBeGreaterThan(before);
    // Spec change: a second data LIF changes what the ManagedResources hold.
    await world.kube.mergePatch(Extensions, shoot.namespace, shoot.extensionName, {
      spec: { providerConfig: { apiVersion: "ontap.metal.extensions.gardener.cloud/v1alpha1", kind: "TridentConfig", svmIpaddresses: { managementLif: "10.130.40.10", dataLifs: ["10.130.40.11", "10.130.40.12"] } } },
      metadata: { annotations: gardenletRequest("reconcile") },
    });
    await waitFor(world, shoot, "reconcile of the changed spec", succeeded, pod);
    // Migrate: the control plane moves away; finalizer and annotation go, the Extension stays.
    await world.annotate(shoot, { "gardener.cloud/operation": "migrate" });
    await waitFor(world, shoot, "migrate", (e) => !e.metadata.annotations?.["gardener.cloud/operation"] && (e.metadata.finalizers ?? []).length === 0 && e.status?.lastOperation?.type === "Migrate", pod);
    // Restore on "the new seed" (the same API server here), then delete.
    await world.annotate(shoot, { "gardener.cloud/operation": "restore" });
    await waitFor(world, shoot, "restore", (e) => succeeded(e) && e.status?.lastOperation?.type === "Restore", pod);
    await world.deleteShoot(shoot);
    // The resource manager deletes the shoot objects before it lets the ManagedResources go.
    await world.waitGone(shoot, 120_000);

    const requests = world.proxy!.requests();
    const refused = requests.filter((r) => r.status === 403).map((r) => `${r.method} ${r.url}`);
    expect(refused, "requests the chart's RBAC refused").toEqual([]);
    const attributes = requests.flatMap((r) => {
      const a = requestAttributes(r.method, r.url);
      return a ? [{ ...a, method: r.method, url: r.url }] : [];
    });
    const rules = chartRules(objects);
    process.stderr.write(`chart RBAC, each rule's verb and the first request that used it:\n  ${grantUses(rules, attributes).join("\n  ")}\n`);
    expect(unusedGrants(rules, attributes), "rules no request needed").toEqual([]);
  }, 480_000);

  it("runs with ONTAP credentials and CAs from an operator's existing Secrets, and with the takeover grant off creates and deletes a shoot, a 403 on the Go extension's Secret meaning no takeover", async () => {
    const { world, pod, namespace, objects } = await install({ credentials: "existing-secret", webhook: false, takeover: { goSecrets: { enabled: false } } });
    expect(objects.filter((o) => o.kind === "Secret")).toEqual([]);
    // No grant on kube-system at all once the takeover is done.
    expect(objects.filter((o) => o.metadata.namespace === "kube-system")).toEqual([]);
    const mounted = readFileSync(path.join(pod.root, "etc/gardener-extension-ontap/credentials", world.sim.clusters[0]!.name, "password"), "utf8");
    expect(mounted).toBe(world.sim.clusters[0]!.password);
    const shoot = await world.createShoot({ project: `rbacx${randomBytes(2).toString("hex")}`, dataLifs: ["10.130.41.11"], managementLif: "10.130.41.10" });
    await waitFor(world, shoot, "create", succeeded, pod);
    // The only refused request is the read of the Go extension's Secret (once per pass that reads the seed Secret
    // and finds none): not a failure, said in a Normal event.
    const goSecret = `/api/v1/namespaces/kube-system/secrets/p${shoot.projectId.replaceAll("-", "")}-${shoot.namespace.replace(/^shoot--/, "")}-credentials`;
    const refused = () => world.proxy!.requests().filter((r) => r.status === 403).map((r) => `${r.method} ${new URL(r.url, "https://x").pathname}`);
    const distinct = () => [...new Set(refused())];
    expect(distinct()).toEqual([`GET ${goSecret}`]);
    const ext = await world.extension(shoot);
    expect(ext?.status?.lastError).toBeUndefined();
    await expect
      .poll(async () => (await world.kube.list<{ reason?: string; message?: string }>(Events, shoot.namespace)).items.filter((e) => e.reason === "TakeoverSkipped").map((e) => e.message), { timeout: 20_000 })
      .toEqual([expect.stringContaining("takeover.goSecrets")]);
    // Delete does not wait on the grant either: the leftover delete is refused, the shoot goes.
    await world.deleteShoot(shoot);
    await world.waitGone(shoot, 120_000);
    expect(distinct()).toEqual([`GET ${goSecret}`, `DELETE ${goSecret}`]);
    expect(readLog(pod)).not.toContain(world.sim.clusters[0]!.password);
    expect(namespace).toMatch(/^extension-ontap-[0-9a-f]{5}$/);
  }, 300_000);
});
