import { readFileSync } from "node:fs";
import { isExtensionReady } from "../../src/testenv/index.js";
import { httpsRequest } from "../../src/testenv/http.js";
import { DaemonSets, Deployments, tridentControllerDeployment, tridentNodeDaemonSet } from "../../src/testenv/trident-operator.js";
import { beforeAll, describe, expect, it } from "vitest";
import { KubeError } from "../../src/kube/errors.js";
import { CustomResourceDefinitions, ManagedResources, Secrets } from "../../src/kube/resources.js";
import {
  isManagedResourceHealthy,
  LABEL_MUTATED_BY_WEBHOOK,
  LABEL_NO_CLEANUP,
  MANAGED_RESOURCE_ORIGIN,
  SHOOT_SYSTEM_NAMESPACE,
  TRIDENT_CONTROLLER_DEPLOYMENT,
  TRIDENT_NODE_DAEMONSET,
} from "../../src/trident/index.js";
import { renderReleasedTridentCrds, renderTridentCrds, TRIDENT_CRD_NAMES } from "../../src/trident/crds.js";
import { ANNOTATION_WAIT_FOR_CSI_NODE, INIT_CONTAINER_NAME, TRIDENT_POD_LABELS } from "../../src/webhook/mutate.js";
import { eventually } from "../support/kube-test-helpers.js";
import { type MrObject, renderedObjects, type ShootObject, typeOf } from "../support/shoot-objects.js";
import { usernameFor } from "../support/invariants.js";
import { type Shoot, type World, worldPerFile } from "../support/world.js";

/**
 * End to end through the real gardener-resource-manager: the controller writes ManagedResources into the seed,
 * gardener-resource-manager (built from github.com/gardener/gardener) applies them to a second kube-apiserver
 * that plays the shoot, and the shoot's kube-apiserver calls the controller's webhook server on loopback.
 * The steps run in order on one world (a shoot API server and a resource manager cost seconds of both cores):
 * each step starts from the state the previous one left, as in a shoot's life.
 */

const PROJECT = "e2e";
const SHOOT = "s1";
const LIFS = { dataLifs: ["10.40.0.11", "10.40.0.12"], managementLif: "10.40.0.10" };

/**
 * Requests the shoot's kube-apiserver has served (its own apiserver_request_total), per verb/group/resource,
 * not counting a status subresource (the workload stand-in writes those).
 */
async function shootRequests(world: World): Promise<Map<string, number>> {
  const env = world.shoot!.env;
  const res = await httpsRequest("GET", `${env.server}/metrics`, { token: env.token, ca: readFileSync(env.caFile, "utf8") });
  expect(res.status).toBe(200);
  const out = new Map<string, number>();
  for (const line of res.body.split("\n")) {
    if (!line.startsWith("apiserver_request_total{")) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (labels.subresource) continue;
    const key = `${labels.verb} ${labels.group || "core"}/${labels.resource}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.split(" ").at(-1)));
  }
  return out;
}

/** How many reconciles of ManagedResource `name` the resource manager has finished, from its log. */
function finishedReconciles(world: World, name: string): number {
  return readFileSync(world.shoot!.env.resourceManager.logFile, "utf8")
    .split("\n")
    .filter((l) => l.includes("Finished to reconcile ManagedResource") && l.includes(`"${name}"`)).length;
}

/** What of a rendered object must be found on the live one (metadata other than labels/annotations is the server's). */
function content(obj: ShootObject): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata, ...rest } = obj;
  const out: Record<string, unknown> = { ...rest };
  if (obj.kind === "Secret" && rest.stringData) {
    // The API server folds stringData into data.
    out.data = Object.fromEntries(
      Object.entries(rest.stringData as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
    );
    delete out.stringData;
  }
  out.metadata = { labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {} };
  return out;
}


function expectNodeDaemonSetMutated(ds: ShootObject | undefined): void {
  const spec = ds?.spec as { template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, unknown> } };
  expect(ds?.metadata.labels).toMatchObject({ [LABEL_NO_CLEANUP]: "true", [LABEL_MUTATED_BY_WEBHOOK]: "true" });
  expect(spec.template.metadata.labels).toMatchObject(TRIDENT_POD_LABELS);
  expect(spec.template.metadata.annotations?.[ANNOTATION_WAIT_FOR_CSI_NODE]).toBe("csi.trident.netapp.io");
  expect(spec.template.spec.dnsPolicy).toBe("Default");
  const init = (spec.template.spec.initContainers as { name: string }[] | undefined) ?? [];
  expect(init.map((c) => c.name)).toEqual([INIT_CONTAINER_NAME]);
  const volumes = (spec.template.spec.volumes as { hostPath?: { path: string } }[] | undefined) ?? [];
  expect(volumes.some((v) => v.hostPath?.path === "/lib/modules")).toBe(true);
}

describe("end to end: the real gardener-resource-manager into a shoot API server", () => {
  // The world opens before this block's beforeAll and closes (checking for leaked passwords) after its last test.
  const opened = worldPerFile({ shoot: { project: PROJECT, shoot: SHOOT, tridentOperator: false } });
  let world: World;
  let shoot: Shoot;
  /** Rendered objects per ManagedResource, as the last successful reconcile wrote them. */
  const rendered = new Map<string, { keepObjects: boolean; objects: ShootObject[] }>();

  const shootKube = () => world.shoot!.kube;
  const managedResources = async () =>
    (await world.kube.list<MrObject>(ManagedResources, shoot.namespace, { labelSelector: `origin=${MANAGED_RESOURCE_ORIGIN}` })).items;
  const allHealthy = async () => {
    const items = await managedResources();
    expect(items.length).toBeGreaterThan(0);
    for (const mr of items) {
      const health = isManagedResourceHealthy(mr);
      expect(health.healthy, `${mr.metadata.name}: ${health.reason}`).toBe(true);
    }
    return items;
  };
  const recordRendered = async () => {
    rendered.clear();
    for (const mr of await managedResources()) {
      rendered.set(mr.metadata.name, { keepObjects: mr.spec.keepObjects === true, objects: await renderedObjects(world.kube, shoot.namespace, mr) });
    }
  };

  /**
   * Trident's operator installs its own 15 CRDs when it starts (TridentBackendConfig among them); no operator
   * runs here, so the test installs the missing ones as it would. Those trident-crds already delivers are left
   * to gardener-resource-manager.
   */
  const installTridentOwnCrds = async () => {
    // Their definitions as this project knows them (the release rendering, whose mode annotation is dropped below).
    const crds = new Map(
      [...renderTridentCrds(), ...renderReleasedTridentCrds(TRIDENT_CRD_NAMES)].map((c) => [(c as ShootObject).metadata.name, c as ShootObject]),
    );
    for (const name of TRIDENT_CRD_NAMES) {
      if (await shootKube().get(CustomResourceDefinitions, undefined, name)) continue;
      const { metadata, ...rest } = crds.get(name)!;
      await shootKube()
        .create(CustomResourceDefinitions, { ...rest, metadata: { name: metadata.name } })
        .catch((err: unknown) => {
          // gardener-resource-manager may have created it a moment ago.
          if (!(err instanceof KubeError && err.reason === "AlreadyExists")) throw err;
        });
    }
  };

  beforeAll(async () => {
    world = opened();
    shoot = await world.createShoot({ project: PROJECT, shoot: SHOOT, ...LIFS });
    await installTridentOwnCrds();
  }, 300_000);


  it("a create reaches Succeeded, the resource manager reports every ManagedResource applied and healthy, and every rendered object is in the shoot", async () => {
    await world.waitSucceeded(shoot, 120_000);
    const items = await eventually(allHealthy, { timeoutMs: 90_000, intervalMs: 500 });
    for (const mr of items) {
      // Conditions written by gardener-resource-manager itself, not the stand-in.
      const applied = mr.status?.conditions?.find((c) => c.type === "ResourcesApplied");
      expect(applied?.reason).toBe("ApplySucceeded");
      expect(applied?.message ?? "").not.toContain("fake resource manager");
      expect(mr.metadata.finalizers ?? []).toContain("resources.gardener.cloud/gardener-resource-manager");
    }
    await recordRendered();

    for (const [name, { objects }] of rendered) {
      expect(objects.length, `${name} renders objects`).toBeGreaterThan(0);
      for (const obj of objects) {
        const live = await shootKube().get<ShootObject>(typeOf(obj), obj.metadata.namespace, obj.metadata.name);
        expect(live, `${obj.kind} ${obj.metadata.namespace ?? ""}/${obj.metadata.name} of ${name} in the shoot`).toBeDefined();
        expect(live!.metadata.labels?.[LABEL_NO_CLEANUP], "injected label").toBe("true");
        expect(live).toMatchObject(content(obj));
      }
    }
  });

  it("the operator CRDs are Established in the shoot, and Trident's backend reads the shoot credentials Secret the seed Secret feeds", async () => {
    const crds = (rendered.get("trident-crds")?.objects ?? []).map((o) => o.metadata.name);
    expect(crds).toEqual(expect.arrayContaining(["tridentorchestrators.trident.netapp.io", "tridentconfigurators.trident.netapp.io"]));
    for (const name of crds) {
      const crd = await shootKube().get<{ status?: { conditions?: { type: string; status: string }[] } }>(CustomResourceDefinitions, undefined, name);
      expect(crd?.status?.conditions?.find((c) => c.type === "Established")?.status, name).toBe("True");
    }
    const orchestrator = rendered.get("trident-init")?.objects.find((o) => o.kind === "TridentOrchestrator");
    expect(orchestrator).toBeDefined();
    expect(await shootKube().get(typeOf(orchestrator!), undefined, orchestrator!.metadata.name)).toBeDefined();

    const backend = rendered.get("trident-backends")?.objects.find((o) => o.kind === "TridentBackendConfig");
    const live = await shootKube().get<ShootObject & { spec: { credentials: { name: string } } }>(typeOf(backend!), SHOOT_SYSTEM_NAMESPACE, backend!.metadata.name);
    const credentials = await shootKube().get<{ data: Record<string, string> }>(Secrets, SHOOT_SYSTEM_NAMESPACE, live!.spec.credentials.name);
    const seedSecret = await world.kube.get<{ data: Record<string, string> }>(Secrets, shoot.namespace, "ontap-svm-credentials");
    expect(credentials?.data.password).toBe(seedSecret?.data.password);
    expect(Buffer.from(credentials!.data.username!, "base64").toString()).toBe(usernameFor(shoot.namespace));
    const classes = rendered.get("trident-backends")!.objects.filter((o) => o.kind === "StorageClass").map((o) => o.metadata.name);
    expect(classes.sort()).toEqual(["ontap-encrypted", "ontap-gold"]);
  });

  it("the CRDs are stored exactly as rendered (no printer column priority 0, conversion written out), and the resource manager's re-apply changes no stored object", async () => {
    const mrs = await managedResources();
    for (const crd of await renderedObjects(world.kube, shoot.namespace, mrs.find((m) => m.metadata.name === "trident-crds")!)) {
      const live = await shootKube().get<ShootObject>(CustomResourceDefinitions, undefined, crd.metadata.name);
      // Field for field: kube-apiserver drops a zero priority and defaults conversion, so rendering either
      // the Go extension's way left the stored CRD different from the rendered one.
      expect(live?.spec, crd.metadata.name).toEqual(crd.spec);
    }

    const objects = (await Promise.all(mrs.map((mr) => renderedObjects(world.kube, shoot.namespace, mr)))).flat();
    const versions = async () =>
      new Map(
        await Promise.all(
          objects.map(async (o) => [`${o.kind}/${o.metadata.name}`, (await shootKube().get<ShootObject>(typeOf(o), o.metadata.namespace, o.metadata.name))?.metadata.resourceVersion] as const),
        ),
      );
    const before = await shootRequests(world);
    const versionsBefore = await versions();
    // Two re-applies of every ManagedResource, each triggered as its periodic one would be: the resource manager
    // reconciles a ManagedResource whose Secret changed (here only a label nobody reads; its content hash stays).
    for (const round of [1, 2]) {
      const finished = new Map(mrs.map((mr) => [mr.metadata.name, finishedReconciles(world, mr.metadata.name)]));
      for (const mr of mrs) {
        for (const ref of mr.spec.secretRefs) {
          await world.kube.mergePatch(Secrets, shoot.namespace, ref.name, { metadata: { labels: { "test.ontap.extensions.gardener.cloud/touch": String(round) } } });
        }
      }
      await eventually(
        () => {
          for (const mr of mrs) expect(finishedReconciles(world, mr.metadata.name), mr.metadata.name).toBeGreaterThan(finished.get(mr.metadata.name)!);
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    }
    const after = await shootRequests(world);
    // The count is real: the resource manager created the operator CRDs before.
    expect(after.get("POST apiextensions.k8s.io/customresourcedefinitions")).toBeGreaterThan(0);
    // Every stored object is as it was: whatever the resource manager sent, nothing was written (no new
    // resourceVersion, so no watch event for Trident), and it reports no difference.
    expect(await versions()).toEqual(versionsBefore);
    await allHealthy();
    // What it sent anyway (docs/architecture.md): it compares the rendered object with the stored one after
    // its own merge, and for some kinds sends a PUT that the API server answers without a write.
    const sent = [...after]
      .filter(([key, n]) => /^(PUT|PATCH|POST|DELETE) /.test(key) && n > (before.get(key) ?? 0))
      .map(([key, n]) => `${key} +${n - (before.get(key) ?? 0)}`);
    console.log(`[grm-reapply-measurement] two re-applies of ${mrs.length} ManagedResources (${objects.length} objects) sent: ${sent.join(", ") || "nothing"}`);
  });

  it("the shoot webhook registered by its ManagedResource mutates Trident's DaemonSet, Deployment and CRDs, and a second update changes nothing", async () => {
    // Trident's operator would create these; none runs here, so the test does what it does. It also
    // re-applies its CRDs on every start: an update the webhook sees.
    await shootKube().create(DaemonSets, tridentNodeDaemonSet());
    await shootKube().create(Deployments, tridentControllerDeployment());
    for (const name of TRIDENT_CRD_NAMES) {
      const crd = await shootKube().get<ShootObject>(CustomResourceDefinitions, undefined, name);
      await shootKube().update(CustomResourceDefinitions, crd!);
    }

    const ds = await shootKube().get<ShootObject>(DaemonSets, SHOOT_SYSTEM_NAMESPACE, TRIDENT_NODE_DAEMONSET);
    expectNodeDaemonSetMutated(ds);
    const deployment = await shootKube().get<ShootObject & { spec: { template: { metadata: { labels: Record<string, string> } } } }>(
      Deployments,
      SHOOT_SYSTEM_NAMESPACE,
      TRIDENT_CONTROLLER_DEPLOYMENT,
    );
    expect(deployment?.metadata.labels).toMatchObject({ [LABEL_MUTATED_BY_WEBHOOK]: "true" });
    expect(deployment?.spec.template.metadata.labels).toMatchObject(TRIDENT_POD_LABELS);
    for (const name of TRIDENT_CRD_NAMES) {
      const crd = await shootKube().get<ShootObject>(CustomResourceDefinitions, undefined, name);
      expect(crd?.metadata.labels, name).toMatchObject({ [LABEL_NO_CLEANUP]: "true", [LABEL_MUTATED_BY_WEBHOOK]: "true" });
    }

    // A second update of what the webhook already mutated: no new generation, the same spec. The stand-in for
    // the DaemonSet controller writes its status meanwhile (a new resourceVersion), so a conflict is read again
    // and retried, as any client does; the spec is the webhook's either way.
    const { fresh, again } = await eventually(
      async () => {
        const fresh = (await shootKube().get<ShootObject>(DaemonSets, SHOOT_SYSTEM_NAMESPACE, TRIDENT_NODE_DAEMONSET))!;
        return { fresh, again: await shootKube().update<ShootObject>(DaemonSets, fresh) };
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    expect(fresh.metadata.generation).toBe(ds!.metadata.generation);
    expect(again.metadata.generation).toBe(ds!.metadata.generation);
    expect(again.spec).toEqual(ds!.spec);
  });

  it("with the webhook down, objects are admitted unmutated (failurePolicy Ignore), and mutated again once it is back", async () => {
    await shootKube().delete(DaemonSets, SHOOT_SYSTEM_NAMESPACE, TRIDENT_NODE_DAEMONSET);
    await eventually(async () => expect(await shootKube().get(DaemonSets, SHOOT_SYSTEM_NAMESPACE, TRIDENT_NODE_DAEMONSET)).toBeUndefined());
    await world.shoot!.setWebhookRunning(false);
    try {
      const created = (await shootKube().create(DaemonSets, tridentNodeDaemonSet())) as ShootObject;
      expect(created.metadata.labels?.[LABEL_MUTATED_BY_WEBHOOK]).toBeUndefined();
      expect((created.spec as { template: { spec: { initContainers?: unknown[] } } }).template.spec.initContainers).toBeUndefined();
    } finally {
      await world.shoot!.setWebhookRunning(true);
    }
    const current = await shootKube().get<ShootObject>(DaemonSets, SHOOT_SYSTEM_NAMESPACE, TRIDENT_NODE_DAEMONSET);
    // The shoot's kube-apiserver keeps a connection pool; the first call after the restart may still fail open.
    await eventually(
      async () => {
        const fresh = await shootKube().get<ShootObject>(DaemonSets, SHOOT_SYSTEM_NAMESPACE, TRIDENT_NODE_DAEMONSET);
        expectNodeDaemonSetMutated(await shootKube().update<ShootObject>(DaemonSets, fresh ?? current!));
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  });

  it("a password rotation reaches the shoot's credentials Secret, and the backend still references it", async () => {
    const seedBefore = await world.kube.get<{ data: Record<string, string> }>(Secrets, shoot.namespace, "ontap-svm-credentials");
    const svm = `p${shoot.projectId.replaceAll("-", "")}`;
    // A password changed on ONTAP behind the controller's back: the next reconcile rotates to a stored one.
    for (const admin of world.admins) await admin.setAccountPassword(svm, usernameFor(shoot.namespace), "changed-by-hand-1").catch(() => undefined);
    world.knownSecrets.add("changed-by-hand-1");
    await world.reconcileNow(shoot, 60_000);
    const seedAfter = await world.kube.get<{ data: Record<string, string> }>(Secrets, shoot.namespace, "ontap-svm-credentials");
    expect(seedAfter?.data.password).not.toBe(seedBefore?.data.password);

    const backend = rendered.get("trident-backends")!.objects.find((o) => o.kind === "TridentBackendConfig")!;
    await eventually(
      async () => {
        const live = await shootKube().get<{ spec: { credentials: { name: string } } }>(typeOf(backend), SHOOT_SYSTEM_NAMESPACE, backend.metadata.name);
        const secret = await shootKube().get<{ data: Record<string, string> }>(Secrets, SHOOT_SYSTEM_NAMESPACE, live!.spec.credentials.name);
        expect(secret?.data.password).toBe(seedAfter?.data.password);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    await eventually(allHealthy, { timeoutMs: 60_000, intervalMs: 500 });
    await recordRendered();
  });

  it("migrate releases the ManagedResources keeping every object in the shoot; restore adopts them again", async () => {
    await world.annotate(shoot, { "gardener.cloud/operation": "migrate" });
    await world.waitFor(
      shoot,
      (e) => e.status?.lastOperation?.type === "Migrate" && e.status.lastOperation.state === "Succeeded" && !e.metadata.annotations?.["gardener.cloud/operation"],
      120_000,
      "Migrate Succeeded",
    );
    // Nothing hangs on the resource manager's finalizer: the ManagedResources are gone from the seed.
    await eventually(async () => expect(await managedResources()).toEqual([]), { timeoutMs: 60_000, intervalMs: 500 });
    for (const [name, { objects }] of rendered) {
      for (const obj of objects) {
        const live = await shootKube().get(typeOf(obj), obj.metadata.namespace, obj.metadata.name);
        expect(live, `${obj.kind} ${obj.metadata.name} of ${name} kept in the shoot on migrate`).toBeDefined();
      }
    }

    await world.annotate(shoot, { "gardener.cloud/operation": "restore" });
    await world.waitFor(
      shoot,
      (e) => isExtensionReady(e) && e.status?.lastOperation?.type === "Restore",
      120_000,
      "Restore Succeeded, ready by Gardener's check",
    );
    await eventually(allHealthy, { timeoutMs: 90_000, intervalMs: 500 });
  });

  it("delete removes from the shoot what is not kept and leaves what keepObjects keeps; nothing hangs on a finalizer", async () => {
    await recordRendered();
    await world.deleteShoot(shoot);
    await world.waitGone(shoot, 120_000);
    expect(await managedResources()).toEqual([]);
    for (const [name, { keepObjects, objects }] of rendered) {
      for (const obj of objects) {
        const where = `${obj.kind} ${obj.metadata.namespace ?? ""}/${obj.metadata.name} of ${name} (keepObjects ${keepObjects})`;
        await eventually(
          async () => {
            const live = await shootKube().get(typeOf(obj), obj.metadata.namespace, obj.metadata.name);
            if (keepObjects) expect(live, where).toBeDefined();
            else expect(live, where).toBeUndefined();
          },
          { timeoutMs: 30_000, intervalMs: 500 },
        );
      }
    }
  });
});
