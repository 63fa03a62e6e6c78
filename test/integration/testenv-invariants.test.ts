import { randomBytes } from "node:crypto";
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { checkInvariants, REQUIRED_MANAGED_RESOURCES, type ShootExpectation, usernameFor } from "../support/invariants.js";
import { freshNamespace, loadKubeConfig } from "../support/kube-test-helpers.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";

/** Builds by hand the world a converged controller would leave, then asks the checker about it. */
describe("invariant checker against kube-apiserver and the ONTAP simulator", () => {
  let sim: RunningSimulator;
  let kc: KubeConfig;
  let nextSubnet = 9;

  beforeAll(async () => {
    sim = await startSimulator({ clusters: 2, jobMs: 0 });
    kc = loadKubeConfig();
  });
  afterAll(async () => {
    await sim?.stop();
  });

  async function convergedShoot(): Promise<{ shoot: ShootExpectation; password: string; svmName: string }> {
    const projectId = `${randomBytes(4).toString("hex")}-${randomBytes(2).toString("hex")}`;
    const svmName = `p${projectId.replace("-", "")}`;
    const namespace = await freshNamespace(kc, { name: `shoot--proj${randomBytes(2).toString("hex")}--s1` });
    // Addresses are unique per cluster: a subnet of its own for every shoot this file builds.
    const net = `10.${nextSubnet++}.0`;
    const shoot: ShootExpectation = { namespace, projectId, dataLifs: [`${net}.10`], managementLif: `${net}.5` };
    const password = randomBytes(12).toString("base64url");

    const admin = new SimAdmin(sim.clusters[0]!);
    try {
      const svm = await admin.createSvmDirect({ name: svmName, nvme: { enabled: true, allowed: true } });
      const lif = (name: string, address: string, policy: string) =>
        admin.rest("POST", "/api/network/ip/interfaces", {
          body: { name, svm: { uuid: svm.uuid }, ip: { address, netmask: "24" }, service_policy: { name: policy } },
        });
      expect((await lif("datalif+0", shoot.dataLifs[0]!, "default-data-nvme-tcp")).status).toBe(201);
      expect((await lif("managementlif", shoot.managementLif, "default-management")).status).toBe(201);
      const account = await admin.rest("POST", "/api/security/accounts", {
        body: {
          name: usernameFor(namespace),
          owner: { uuid: svm.uuid },
          role: { name: "vsadmin" },
          applications: [{ application: "http", authentication_methods: ["password"] }],
          password,
        },
      });
      expect(account.status).toBe(201);
    } finally {
      await admin.close();
    }

    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: "ontap-svm-credentials" }, stringData: { username: usernameFor(namespace), password } },
    });
    for (const name of REQUIRED_MANAGED_RESOURCES) {
      const manifest =
        name === "trident-svm-secret"
          ? `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: kube-system\nstringData:\n  username: ${usernameFor(namespace)}\n  password: ${password}\n`
          : `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: kube-system\n`;
      await core.createNamespacedSecret({
        namespace,
        body: { metadata: { name: `managedresource-${name}` }, stringData: { "objects.yaml": manifest } },
      });
      await custom.createNamespacedCustomObject({
        group: "resources.gardener.cloud",
        version: "v1alpha1",
        namespace,
        plural: "managedresources",
        body: {
          apiVersion: "resources.gardener.cloud/v1alpha1",
          kind: "ManagedResource",
          metadata: { name },
          spec: { secretRefs: [{ name: `managedresource-${name}` }] },
        },
      });
    }
    const ext = { group: "extensions.gardener.cloud", version: "v1alpha1", namespace, plural: "extensions" };
    const created = await custom.createNamespacedCustomObject({
      ...ext,
      body: {
        apiVersion: "extensions.gardener.cloud/v1alpha1",
        kind: "Extension",
        metadata: { name: "ontap" },
        spec: { type: "ontap" },
      },
    });
    await custom.replaceNamespacedCustomObjectStatus({
      ...ext,
      name: "ontap",
      body: {
        ...created,
        status: {
          observedGeneration: 1,
          lastOperation: {
            type: "Reconcile",
            state: "Succeeded",
            description: "done",
            progress: 100,
            lastUpdateTime: new Date().toISOString(),
          },
        },
      },
    });
    return { shoot, password, svmName };
  }

  it("finds no violation in a converged world, and the one a drifted ONTAP password causes", async () => {
    const { shoot, password, svmName } = await convergedShoot();
    const input = { kube: kc, simulators: sim.clusters, shoots: [shoot] };
    expect(await checkInvariants(input)).toEqual([]);

    const admin = new SimAdmin(sim.clusters[0]!);
    try {
      await admin.setAccountPassword(svmName, usernameFor(shoot.namespace), `${password}-drifted`);
    } finally {
      await admin.close();
    }
    const violations = await checkInvariants(input);
    expect(violations).toEqual([`${shoot.namespace}: the seed Secret's password does not authenticate ${usernameFor(shoot.namespace)} on sim-1`]);
    expect(violations.join("\n")).not.toContain(password);
  });

  it("reports what is left of a shoot declared deleted, on both sides", async () => {
    const { shoot } = await convergedShoot();
    const violations = await checkInvariants({ kube: kc, simulators: sim.clusters, shoots: [{ ...shoot, deleted: true }] });
    expect(violations).toContain(`${shoot.namespace}: seed Secret ontap-svm-credentials still exists after deletion`);
    expect(violations).toContain(`${shoot.namespace}: Extension ontap still exists after deletion`);
    expect(violations.some((v) => v.includes(`account ${usernameFor(shoot.namespace)} still exists`))).toBe(true);
  });
});
