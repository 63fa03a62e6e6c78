import { describe, expect, it } from "vitest";
import {
  credentialsInManifests,
  evaluateInvariants,
  type OntapClusterObservation,
  type ShootExpectation,
  shootNameOf,
  svmNameFor,
  legacyUsernameFor,
  usernameFor,
  type WorldObservation,
} from "../support/invariants.js";

const NS = "shoot--proj1--my-shoot";
const SVM = "pabc123";
const shoot: ShootExpectation = {
  namespace: NS,
  projectId: "abc-123",
  dataLifs: ["10.0.0.10", "10.0.0.11"],
  managementLif: "10.0.0.5",
};

const b64 = (s: string) => Buffer.from(s).toString("base64");
const svmSecretManifest = (username: string, password: string) =>
  `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ontap-svm-${SVM}-credentials\n  namespace: kube-system\n` +
  `data:\n  username: ${b64(username)}\n  password: ${b64(password)}\n`;
const backendManifest = (lif: string) =>
  `apiVersion: trident.netapp.io/v1\nkind: TridentBackendConfig\nmetadata:\n  name: b\nspec:\n  managementLIF: ${lif}\n`;

const MRS = ["trident-crds", "trident-backends", "trident-svm-secret", "trident-init", "extension-ontap-shoot"];

/** A converged world for `shoot`; each test breaks one thing. */
function converged(): WorldObservation {
  const referencedSecrets: Record<string, Record<string, string>> = Object.fromEntries(
    MRS.map((name) => [`managedresource-${name}`, { "objects.yaml": "apiVersion: v1\nkind: ConfigMap\n" }]),
  );
  referencedSecrets["managedresource-trident-svm-secret"] = { "secret.yaml": svmSecretManifest("proj1--my-shoot", "pw-1") };
  referencedSecrets["managedresource-trident-backends"] = { "backend.yaml": backendManifest("10.0.0.5") };
  const cluster: OntapClusterObservation = {
    cluster: "sim-1",
    svms: [{ uuid: "u1", name: SVM, state: "running", nvme: { enabled: true } }],
    interfaces: [
      { name: "datalif+0", ip: { address: "10.0.0.10" }, svm: { uuid: "u1", name: SVM }, service_policy: { name: "default-data-nvme-tcp" } },
      { name: "datalif+1", ip: { address: "10.0.0.11" }, svm: { uuid: "u1", name: SVM }, service_policy: { name: "default-data-nvme-tcp" } },
      { name: "managementlif", ip: { address: "10.0.0.5" }, svm: { uuid: "u1", name: SVM }, service_policy: { name: "default-management" } },
      { name: "foreign", ip: { address: "10.0.0.99" }, svm: { uuid: "u1", name: SVM }, service_policy: { name: "x" } },
    ],
    accounts: [
      { name: "admin", owner: { uuid: "admin-svm", name: "sim-1" }, role: { name: "admin" } },
      { name: "vsadmin", owner: { uuid: "u1", name: SVM }, role: { name: "vsadmin" } },
      { name: "proj1--my-shoot", owner: { uuid: "u1", name: SVM }, role: { name: "vsadmin" } },
    ],
    volumes: [{ svm: { uuid: "u1", name: SVM }, is_svm_root: true }],
  };
  return {
    kube: [
      {
        namespace: NS,
        seedSecret: { username: "proj1--my-shoot", password: "pw-1" },
        managedResources: MRS.map((name) => ({ name, secretRefs: [`managedresource-${name}`] })),
        referencedSecrets,
        extensions: [{ name: "ontap", type: "ontap", generation: 3, observedGeneration: 3, lastOperationState: "Succeeded" }],
      },
    ],
    ontap: [cluster, { cluster: "sim-2", svms: [], interfaces: [], accounts: [], volumes: [] }],
    passwordAuthenticates: { [NS]: true },
  };
}

describe("invariant checker: names", () => {
  it("derives SVM name, shoot name and ONTAP user the way the Go extension did", () => {
    expect(svmNameFor("a1b2-c3d4-e5")).toBe("pa1b2c3d4e5");
    expect(shootNameOf("shoot--proj--my-shoot")).toBe("my-shoot");
    // Each shoot's own user (two Gardener projects may carry one metal-stack project); the Go extension's name is
    // the legacy one, kept only for an account whose comment names the shoot.
    expect(usernameFor("shoot--proj--a-very-long-shoot-name-beyond-25")).toBe("proj--a-very-long-shoot-name-beyond-25");
    expect(usernameFor(`shoot--proj--${"y".repeat(40)}`)).toMatch(/^proj--y{25}-[0-9a-f]{8}$/);
    expect(legacyUsernameFor("shoot--proj--a-very-long-shoot-name-beyond-25")).toBe("a-very-long-shoot-name-be");
    expect(legacyUsernameFor("shoot--proj---x")).toBe("_x");
    expect(() => shootNameOf("garden-proj")).toThrow(/shoot--<project>--<shoot>/);
  });

  it("reads credentials from Secret manifests given as data (base64) or stringData", () => {
    expect(credentialsInManifests({ a: svmSecretManifest("u", "p") })).toEqual([{ username: "u", password: "p" }]);
    expect(
      credentialsInManifests({ b: "kind: ConfigMap\n---\nkind: Secret\nstringData:\n  username: v\n  password: q\n" }),
    ).toEqual([{ username: "v", password: "q" }]);
  });
});

describe("invariant checker: a converged shoot", () => {
  it("reports nothing when both worlds hold", () => {
    expect(evaluateInvariants([shoot], converged())).toEqual([]);
  });

  it("reports an SVM that is missing, duplicated on two clusters, not running or without NVMe", () => {
    const missing = converged();
    missing.ontap[0]!.svms = [];
    expect(evaluateInvariants([shoot], missing)).toEqual([`${NS}: SVM ${SVM} exists on no cluster`]);

    const twice = converged();
    twice.ontap[1]!.svms = [{ uuid: "u9", name: SVM, state: "running", nvme: { enabled: true } }];
    expect(evaluateInvariants([shoot], twice)).toEqual([`${NS}: SVM ${SVM} exists 2 times (clusters sim-1, sim-2)`]);

    const stopped = converged();
    stopped.ontap[0]!.svms[0] = { uuid: "u1", name: SVM, state: "starting", nvme: { enabled: false } };
    expect(evaluateInvariants([shoot], stopped)).toEqual([
      `${NS}: SVM ${SVM} on sim-1 is starting, expected running`,
      `${NS}: SVM ${SVM} on sim-1 does not have NVMe enabled`,
    ]);
  });

  it("reports a missing LIF, a wrong address, a wrong policy and a surplus data LIF, but not a foreign LIF", () => {
    const world = converged();
    const lifs = world.ontap[0]!.interfaces;
    lifs.splice(1, 1); // datalif1 gone
    lifs[0] = { ...lifs[0]!, ip: { address: "10.0.0.77" } };
    lifs.push({ name: "datalif+2", ip: { address: "10.0.0.12" }, svm: { name: SVM }, service_policy: { name: "default-data-nvme-tcp" } });
    const mgmt = lifs.find((l) => l.name === "managementlif")!;
    mgmt.service_policy = { name: "default-data-nvme-tcp" };
    expect(evaluateInvariants([shoot], world)).toEqual([
      `${NS}: SVM ${SVM} on sim-1 LIF datalif+0 has address 10.0.0.77, expected 10.0.0.10`,
      `${NS}: SVM ${SVM} on sim-1 has no LIF datalif+1`,
      `${NS}: SVM ${SVM} on sim-1 LIF managementlif has service policy default-data-nvme-tcp, expected default-management`,
      `${NS}: SVM ${SVM} on sim-1 has a surplus LIF datalif+2`,
    ]);
  });

  it("reports a missing account and a password that does not authenticate, without printing the password", () => {
    const world = converged();
    world.ontap[0]!.accounts = world.ontap[0]!.accounts.filter((a) => a.name !== "proj1--my-shoot");
    world.passwordAuthenticates[NS] = false;
    const violations = evaluateInvariants([shoot], world);
    expect(violations).toEqual([
      `${NS}: SVM ${SVM} on sim-1 has 0 accounts named proj1--my-shoot, expected 1`,
      `${NS}: the seed Secret's password does not authenticate proj1--my-shoot on sim-1`,
    ]);
    expect(violations.join("\n")).not.toContain("pw-1");
  });

  it("reports a seed Secret that is missing, empty or still holds a pendingPassword", () => {
    const missing = converged();
    missing.kube[0]!.seedSecret = undefined;
    expect(evaluateInvariants([shoot], missing)).toEqual([`${NS}: seed Secret ontap-svm-credentials does not exist`]);

    const pending = converged();
    pending.kube[0]!.seedSecret = { username: "proj1--my-shoot", password: "", pendingPassword: "pw-2" };
    delete pending.passwordAuthenticates[NS];
    const violations = evaluateInvariants([shoot], pending);
    expect(violations).toEqual([
      `${NS}: seed Secret ontap-svm-credentials has no password`,
      `${NS}: seed Secret ontap-svm-credentials still holds a pendingPassword`,
      `${NS}: ManagedResource trident-svm-secret carries a different password than the seed Secret`,
    ]);
    expect(violations.join("\n")).not.toMatch(/pw-1|pw-2/);
  });

  it("reports a missing ManagedResource, a missing referenced Secret and shipped credentials that differ", () => {
    const world = converged();
    const kube = world.kube[0]!;
    kube.managedResources = kube.managedResources.filter((m) => m.name !== "trident-init");
    delete kube.referencedSecrets["managedresource-trident-crds"];
    kube.referencedSecrets["managedresource-trident-svm-secret"] = { s: svmSecretManifest("proj1--my-shoot", "old-pw") };
    const violations = evaluateInvariants([shoot], world);
    expect(violations).toEqual([
      `${NS}: ManagedResource trident-crds references missing Secret managedresource-trident-crds`,
      `${NS}: ManagedResource trident-init does not exist`,
      `${NS}: ManagedResource trident-svm-secret carries a different password than the seed Secret`,
    ]);
    expect(violations.join("\n")).not.toMatch(/old-pw|pw-1/);
  });

  it("requires trident-cwnp only when a firewall is expected and forbids it when none is", () => {
    expect(evaluateInvariants([{ ...shoot, firewall: true }], converged())).toEqual([
      `${NS}: ManagedResource trident-cwnp does not exist`,
    ]);
    const world = converged();
    world.kube[0]!.managedResources.push({ name: "trident-cwnp", secretRefs: ["managedresource-trident-cwnp"] });
    world.kube[0]!.referencedSecrets["managedresource-trident-cwnp"] = { x: "kind: ConfigMap\n" };
    expect(evaluateInvariants([{ ...shoot, firewall: false }], world)).toEqual([
      `${NS}: ManagedResource trident-cwnp exists although no firewall namespace is expected`,
    ]);
    expect(evaluateInvariants([shoot], world)).toEqual([]);
  });

  it("reports an Extension that is not Succeeded for the current generation", () => {
    const world = converged();
    world.kube[0]!.extensions = [
      { name: "ontap", type: "ontap", generation: 4, observedGeneration: 3, lastOperationState: "Error" },
    ];
    expect(evaluateInvariants([shoot], world)).toEqual([
      `${NS}: Extension ontap lastOperation.state is Error, expected Succeeded`,
      `${NS}: Extension ontap observedGeneration 3 != generation 4`,
    ]);
  });
});

describe("invariant checker: a deleted shoot", () => {
  const deleted = { ...shoot, deleted: true };
  const gone = (): WorldObservation => ({
    kube: [{ namespace: NS, managedResources: [], referencedSecrets: {}, extensions: [] }],
    ontap: [{ cluster: "sim-1", svms: [], interfaces: [], accounts: [], volumes: [] }],
    passwordAuthenticates: {},
  });

  it("reports nothing when nothing of the shoot is left", () => {
    expect(evaluateInvariants([deleted], gone())).toEqual([]);
  });

  it("reports everything of the shoot that is left on either side", () => {
    const world = converged();
    expect(evaluateInvariants([deleted], world)).toEqual([
      `${NS}: seed Secret ontap-svm-credentials still exists after deletion`,
      ...MRS.map((name) => `${NS}: ManagedResource ${name} still exists after deletion`),
      `${NS}: Extension ontap still exists after deletion`,
      `${NS}: account proj1--my-shoot still exists on SVM ${SVM} on sim-1`,
      `${NS}: SVM ${SVM} still exists on sim-1 although no shoot, user or volume uses it`,
    ]);
  });

  it("keeps the project's SVM when another shoot of the project lives, a foreign user or a data volume remains", () => {
    const withSvm = () => {
      const world = gone();
      world.ontap[0] = {
        cluster: "sim-1",
        svms: [{ uuid: "u1", name: SVM, state: "running" }],
        interfaces: [],
        accounts: [{ name: "vsadmin", owner: { uuid: "u1", name: SVM } }],
        volumes: [{ svm: { uuid: "u1" }, is_svm_root: true }],
      };
      return world;
    };
    expect(evaluateInvariants([deleted], withSvm())).toHaveLength(1);

    const other: ShootExpectation = { ...shoot, namespace: "shoot--proj1--other", deleted: false };
    const violations = evaluateInvariants([deleted, other], withSvm());
    expect(violations.filter((v) => v.startsWith(NS))).toEqual([]);

    const foreignUser = withSvm();
    foreignUser.ontap[0]!.accounts.push({ name: "someone", owner: { uuid: "u1", name: SVM } });
    expect(evaluateInvariants([deleted], foreignUser)).toEqual([]);

    const dataVolume = withSvm();
    dataVolume.ontap[0]!.volumes.push({ svm: { uuid: "u1" }, is_svm_root: false });
    expect(evaluateInvariants([deleted], dataVolume)).toEqual([]);
  });
});
