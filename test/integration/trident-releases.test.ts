import { afterAll, describe, expect, it } from "vitest";
import { loadImageVector } from "../../src/config/component-config.js";
import { createDoctorClients, runDoctor } from "../../src/doctor/command.js";
import { Clusters, Extensions } from "../../src/kube/resources.js";
import { mergeImageVectors, parseImageVector } from "../../src/trident/index.js";
import { eventually } from "../support/kube-test-helpers.js";
import { createWorld, type Shoot, type World } from "../support/world.js";

/**
 * Issue 23: shoots of Kubernetes 1.33, 1.34 and 1.35 (metal-stack's live shoots run 1.34 and 1.35) each get the
 * Trident that supports them, from images an `imageVectorOverwrite` redirects, through the real
 * gardener-resource-manager into each shoot's API server; a shoot whose Kubernetes outgrows its Trident is
 * upgraded. The overwrite is the one a mirror needs: 1.34's operator and Trident from a mirror, all of 1.35's
 * CSI sidecars from another registry.
 */
const DEPLOYMENTS = { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true };
const CRDS = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false };
const TRIDENT_NODES = { group: "trident.netapp.io", version: "v1", plural: "tridentnodes", kind: "TridentNode", namespaced: true };
const MIRROR = "mirror.example";

interface TridentNodeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: object;
  status?: object;
}
const OVERWRITE = `images:
- name: trident-operator
  repository: ${MIRROR}/netapp/trident-operator
  targetVersion: ">= 1.34, < 1.35"
- name: trident
  repository: ${MIRROR}/netapp/trident
  targetVersion: ">= 1.34, < 1.35"
${["csi-provisioner", "csi-attacher", "csi-resizer", "csi-snapshotter", "csi-node-driver-registrar", "csi-livenessprobe"]
  .map((name) => `- name: ${name}\n  repository: ${MIRROR}/sig-storage/${name}\n  targetVersion: ">= 1.35, < 1.36"`)
  .join("\n")}
`;

interface OperatorDeployment {
  spec: { template: { spec: { containers: { image: string; env?: { name: string; value?: string }[]; resources?: unknown }[] } } };
}

let world: World | undefined;
afterAll(async () => {
  await world?.close();
}, 120_000);

describe("the Trident release of each shoot follows its Kubernetes version, from the image vector", () => {
  it("gives 1.33, 1.34 and 1.35 their Trident, redirected by the overwrite, and upgrades a shoot that outgrows its Trident", { timeout: 300_000 }, async () => {
    world = await createWorld({ startController: false });
    const w = world;
    const versions = ["1.33.5", "1.34.2", "1.35.1"] as const;
    const shoots: Shoot[] = [];
    for (const [i, version] of versions.entries()) {
      const shoot = await w.createShoot({ project: `tr${i}`, shoot: "s", dataLifs: [`10.83.${i}.11`], managementLif: `10.83.${i}.10` });
      await setKubernetesVersion(w, shoot, version);
      shoots.push(shoot);
    }
    const vector = mergeImageVectors(loadImageVector(""), parseImageVector(OVERWRITE, "imageVectorOverwrite"));
    await w.startController({ config: { imageVector: vector } });

    const expected = [
      { version: "25.06.3", image: "docker.io/netapp/trident-operator:25.06.3", env: {} },
      {
        version: "25.10.0",
        image: `${MIRROR}/netapp/trident-operator:25.10.0`,
        env: { DEFAULT_TRIDENT_IMAGE: `${MIRROR}/netapp/trident:25.10.0` },
      },
      {
        version: "26.02.1",
        image: "docker.io/netapp/trident-operator:26.02.1",
        env: {
          TRIDENT_CSI_SIDECAR_PROVISIONER_IMAGE: `${MIRROR}/sig-storage/csi-provisioner:v6.2.0`,
          TRIDENT_CSI_SIDECAR_LIVENESS_PROBE_IMAGE: `${MIRROR}/sig-storage/csi-livenessprobe:v2.18.0`,
        },
      },
    ];
    for (const [i, shoot] of shoots.entries()) {
      const ext = await w.waitSucceeded(shoot, 120_000);
      expect(((ext.status?.providerStatus ?? {}) as { trident?: unknown }).trident).toEqual({
        version: expected[i]!.version,
        operatorImage: expected[i]!.image,
        selectedBy: "vector",
      });
      const operator = await operatorInShoot(w, shoot);
      const container = operator.spec.template.spec.containers[0]!;
      expect(container.image, versions[i]).toBe(expected[i]!.image);
      const env = Object.fromEntries((container.env ?? []).filter((e) => e.value !== undefined && e.name !== "OPERATOR_NAME").map((e) => [e.name, e.value]));
      expect(env, versions[i]).toMatchObject(expected[i]!.env);
      if (i === 2) expect(Object.keys(env)).toHaveLength(6);
    }

    // doctor says which Trident the 1.34 shoot runs.
    const clients = createDoctorClients(w.config, 3000);
    try {
      const [result] = await runDoctor({ kube: w.kube, clients, config: w.config }, { namespace: shoots[1]!.namespace });
      expect(result?.diagnosis.rows.find((r) => r.check === "Trident")).toMatchObject({
        status: "ok",
        actual: `25.10.0 (operator ${MIRROR}/netapp/trident-operator:25.10.0, selected by vector)`,
      });
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }

    // Trident 26.10's TridentNode status (issue 23): the CRD in the shoot has the subresource, a status Trident writes
    // through it survives a reconcile (trident-crds rewritten, the webhook's labels applied).
    const side = await w.shootOf(shoots[2]!);
    // Installed by the operator stand-in (as Trident's installer would) once the operator's Deployment arrived.
    await eventually(
      async () => {
        const crd = await side.kube.get<{ spec: { versions: { subresources?: { status?: object } }[] } }>(CRDS, undefined, "tridentnodes.trident.netapp.io");
        expect(crd?.spec.versions[0]?.subresources?.status).toEqual({});
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const node = await side.kube.create<TridentNodeObject>(TRIDENT_NODES, {
      apiVersion: "trident.netapp.io/v1",
      kind: "TridentNode",
      metadata: { name: "worker-1", namespace: "kube-system" },
      spec: { ips: ["10.1.0.5"] },
    } as TridentNodeObject);
    await side.kube.updateStatus<TridentNodeObject>(TRIDENT_NODES, { ...node, status: { registered: true, observedGeneration: 1 } });
    await w.reconcileNow(shoots[2]!, 120_000);
    expect((await side.kube.get<TridentNodeObject>(TRIDENT_NODES, "kube-system", "worker-1"))?.status).toEqual({ registered: true, observedGeneration: 1 });

    // Never a downgrade, even without the status' record (a shoot taken over, a status lost): the 26.02.1 shoot,
    // told it runs 1.34 (whose release is 25.10.0), keeps 26.02.1, read from the live trident-init Secret.
    await w.kube.mergePatch(Extensions, shoots[2]!.namespace, shoots[2]!.extensionName, { status: { providerStatus: { trident: null } } }, { subresource: "status" });
    await setKubernetesVersion(w, shoots[2]!, "1.34.9");
    const kept = await w.reconcileNow(shoots[2]!, 120_000);
    expect(((kept.status?.providerStatus ?? {}) as { trident?: unknown }).trident).toEqual({
      version: "26.02.1",
      operatorImage: "docker.io/netapp/trident-operator:26.02.1",
      selectedBy: "kept",
    });

    // The 1.33 shoot is upgraded to 1.34: its Trident moves to 25.10.0 (operator first: one Deployment carries it).
    await setKubernetesVersion(w, shoots[0]!, "1.34.0");
    const upgraded = await w.reconcileNow(shoots[0]!, 120_000);
    expect(((upgraded.status?.providerStatus ?? {}) as { trident?: { version?: string } }).trident?.version).toBe("25.10.0");
    await eventually(async () => expect((await operatorInShoot(w, shoots[0]!)).spec.template.spec.containers[0]!.image).toBe(`${MIRROR}/netapp/trident-operator:25.10.0`), {
      timeoutMs: 90_000,
      intervalMs: 500,
    });
  });
});

async function setKubernetesVersion(w: World, shoot: Shoot, version: string): Promise<void> {
  await w.kube.mergePatch(Clusters, undefined, shoot.namespace, { spec: { shoot: { spec: { kubernetes: { version } } } } });
}

async function operatorInShoot(w: World, shoot: Shoot): Promise<OperatorDeployment> {
  const side = await w.shootOf(shoot);
  let found: OperatorDeployment | undefined;
  await eventually(
    async () => {
      found = await side.kube.get<OperatorDeployment>(DEPLOYMENTS, "kube-system", "trident-operator");
      expect(found).toBeDefined();
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
  return found!;
}
