import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Extension } from "../../src/extension/types.js";
import { ConfigMaps, Events, Namespaces } from "../../src/kube/resources.js";
import { type Loopback443, listenOnLoopback443 } from "../support/loopback-443.js";
import { findObject, type GoClusterEntry, metalRolesValues, passwordsOutsideSecrets, type RenderedObject, renderChart, writeValues } from "../support/chart.js";
import { applyManifests, type ChartPod, deleteManifests, readLog, serviceAccountToken, startChartPod } from "../support/chart-pod.js";
import { loadKubeConfig, testEnv } from "../support/kube-test-helpers.js";
import { createWorld, type World } from "../support/world.js";

/**
 * The landscape as metal-stack deploys it (issue 23): the chart rendered by real helm with exactly the values
 * metal-roles gives it (`image` and `config.clusters` of Go extension entries `{name, ipaddress, username,
 * password}`, nothing added), applied to the real kube-apiserver, and the Deployment's container run under the
 * chart's ServiceAccount, reconciling a shoot against the simulator through the real gardener-resource-manager.
 *
 * ONTAP is addressed as metal-roles addresses it, by IP on port 443. cluster-a by a loopback IP (127.a.b.c) whose
 * port 443 relays to the simulator (test/support/loopback-443.ts): the controller dials that IP on 443 itself, no
 * dial map involved. cluster-b by 10.0.0.20 as in a landscape: the controller's URL, Host header and pin keys are
 * those, and the socket goes to the simulator's loopback listener through the test/lab dial map
 * (`run --ontap-dial-map-file`, added to the pod's args like the free health port: the chart's values stay
 * metal-roles'), together with the simulator's own map of SVM management LIFs; no 10.x address is dialled.
 * A second values file carries the two things the shared test world needs and a landscape does not: an
 * Extension class of this world's own (other tests' Extensions live in the same API server) and monitoring off
 * (no prometheus-operator CRDs here; the rules are checked by promtool in chart.test.ts).
 */
const SA = "gardener-extension-extension-ontap";
let world: World | undefined;
let pod: ChartPod | undefined;
let applied: RenderedObject[] = [];
let port443: Loopback443 | undefined;

afterAll(async () => {
  await pod?.kill("SIGTERM");
  await port443?.close();
  if (applied.length > 0) await deleteManifests(loadKubeConfig(testEnv().kubeconfigPath), applied);
  await world?.close();
});

const succeeded = (e: Extension) =>
  e.status?.lastOperation?.state === "Succeeded" && e.status.observedGeneration === e.metadata.generation && !e.metadata.annotations?.["gardener.cloud/operation"];

describe("the chart with metal-roles' values", () => {
  it("reconciles a shoot with Go entries addressed by IP on 443 (one dialled there, one a 10.x address mapped), unverified as the Go extension was, and says so in log, metric and event", async () => {
    world = await createWorld({ startController: false, faultProxy: true, clusters: 2 });
    const w = world;
    const dir = mkdtempSync(path.join(tmpdir(), "chart-metal-roles-"));
    const namespace = `extension-ontap-${randomBytes(3).toString("hex").slice(0, 5)}`;
    await w.kube.create(Namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    const admin = loadKubeConfig(testEnv().kubeconfigPath);

    // The Ansible variable gardener_extension_ontap_clusters, in the Go extension's format.
    const simA = new URL(w.sim.clusters[0]!.url);
    port443 = await listenOnLoopback443({ host: simA.hostname, port: Number(simA.port) });
    const addresses = [port443.address, "10.0.0.20"];
    const go: GoClusterEntry[] = w.sim.clusters.map((c, i) => ({ name: `cluster-${"ab"[i]}`, ipaddress: addresses[i]!, username: c.username, password: c.password }));
    const dialMap = path.join(dir, "ontap-dial-map.json");
    // Only the 10.x address is mapped: cluster-a is dialled at its IP on 443.
    writeFileSync(dialMap, JSON.stringify({ [addresses[1]!]: w.sim.clusters[1]!.url }));

    const objects = await renderChart({
      namespace,
      valuesFiles: [
        writeValues(dir, "metal-roles.yaml", metalRolesValues(go)),
        writeValues(dir, "test-world.yaml", { config: { extensionClass: w.config.extensionClass }, monitoring: { enabled: false } }),
      ],
    });
    expect(passwordsOutsideSecrets(objects, go.map((c) => c.password))).toEqual([]);
    await applyManifests(admin, objects);
    applied = objects;

    const token = await serviceAccountToken(admin, namespace, SA);
    pod = await startChartPod({
      kube: w.kube,
      deployment: findObject(objects, "Deployment"),
      kubeconfig: w.proxy!.kubeconfigFor(dir, { token }),
      root: path.join(dir, "pod"),
      freeWebhookPort: true,
      extraArgs: ["--poll-seconds", "0.2", "--resync-minutes", "0", "--ontap-dial-map-file", dialMap, w.sim.lifEndpointsFile],
    });
    const p = pod;
    // Generous: a cold start (tsx compiling the controller) takes 20-60 s on a loaded 2-core machine.
    await expect
      .poll(async () => {
        if (p.proc.exitCode !== null) throw new Error(`controller exited with ${p.proc.exitCode}:\n${readLog(p).slice(-3000)}`);
        return p.readyz();
      }, { timeout: 180_000, interval: 250 })
      .toBe(200);

    const shoot = await w.createShoot({ project: `mr${randomBytes(2).toString("hex")}`, dataLifs: ["10.130.50.11"], managementLif: "10.130.50.10" });
    try {
      await w.waitFor(shoot, succeeded, 150_000, "create");
    } catch (err) {
      throw new Error(`${(err as Error).message}\ncontroller log tail:\n${readLog(p).slice(-4000)}`);
    }
    // The SVM lookup asks every cluster: cluster-a answered over its IP's port 443.
    expect(port443.connections()).toBeGreaterThan(0);
    const ext = await w.extension(shoot);
    const placed = (ext?.status?.providerStatus as { cluster?: string } | undefined)?.cluster;
    expect(["cluster-a", "cluster-b"]).toContain(placed);
    // The SVM is on the simulator cluster behind the address of the entry it was placed on.
    const states = await Promise.all(w.admins.map((a) => a.state()));
    const holder = go.findIndex((c) => c.name === placed);
    expect(states[holder]!.svms.map((s) => s["name"])).toContain(`p${shoot.projectId.replaceAll("-", "")}`);

    // Loudly: a warning per cluster, the gauge at 1 per cluster, a Warning event on the pod.
    const log = readLog(p);
    for (const c of go) {
      expect(log).toMatch(new RegExp(`ONTAP cluster ${c.name} \\(clusters\\[\\d\\], https://${c.ipaddress.replaceAll(".", "\\.")}\\): TLS certificate NOT verified`));
      expect(await p.metric("ontap_tls_unverified", { cluster: c.name })).toBe(1);
      expect(log).not.toContain(c.password);
    }
    await expect
      .poll(async () => {
        const events = await w.kube.list<{ reason?: string; type?: string; involvedObject?: { kind?: string; name?: string }; message?: string }>(Events, namespace);
        return events.items.filter((e) => e.reason === "OntapTlsUnverified" && e.type === "Warning" && e.involvedObject?.kind === "Pod").map((e) => e.message ?? "");
      }, { timeout: 30_000 })
      .toEqual(expect.arrayContaining([expect.stringMatching(/cluster-a.*NOT verified.*pinCertificate: true/), expect.stringMatching(/cluster-b.*NOT verified/)]));
    // Nothing refused by the chart's RBAC, and no ConfigMap in the release namespace holds a password.
    expect(w.proxy!.requests().filter((r) => r.status === 403).map((r) => `${r.method} ${r.url}`)).toEqual([]);
    const configMaps = await w.kube.list<RenderedObject>(ConfigMaps, namespace);
    expect(passwordsOutsideSecrets(configMaps.items, go.map((c) => c.password))).toEqual([]);
  }, 480_000);
});
