import { describe, expect, it } from "vitest";
import { decodeShootInputs, InputError } from "../../src/ontap-extension/inputs.js";
import { renderTridentManagedResources, type TridentFacts, volumeNameTemplate } from "../../src/trident/index.js";

/**
 * The providerConfig's storage choices beyond the Go extension: a default StorageClass, Trident's
 * VolumeSnapshotClass, volume names a storage admin can map to shoots and claims. Each defaults to what the Go
 * extension rendered, so a taken-over shoot keeps its objects.
 */
const facts: TridentFacts = {
  svmName: "p5f26a3b99a4d48dba6b3d1dd4ac4abec",
  managementLif: "10.130.0.10",
  dataLifs: ["10.130.0.11"],
  credentialsSecretName: "p5f26a3b99a4d48dba6b3d1dd4ac4abec-p1--s1-credentials",
  username: "p1--s1",
  password: "Sup3r-Secret-Pw",
  firewallNamespaceExists: false,
  shoot: { project: "p1", name: "s1" },
};
type Obj = { kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec?: { defaults?: { nameTemplate?: string } }; driver?: string; deletionPolicy?: string };
const backends = (f: TridentFacts) => renderTridentManagedResources(f).find((p) => p.name === "trident-backends")!.objects as Obj[];
const ofKind = (objects: Obj[], kind: string) => objects.filter((o) => o.kind === kind);

describe("storage options of the providerConfig", () => {
  it("by default renders what the Go extension did: no default class, no VolumeSnapshotClass, Trident's volume names", () => {
    for (const f of [facts, { ...facts, storage: { volumeSnapshotClass: false, volumeNaming: "Trident" as const } }]) {
      const objects = backends(f);
      expect(ofKind(objects, "StorageClass").map((o) => o.metadata.annotations)).toEqual([undefined, undefined]);
      expect(ofKind(objects, "VolumeSnapshotClass")).toEqual([]);
      expect(ofKind(objects, "TridentBackendConfig")[0]!.spec!.defaults).toBeUndefined();
    }
  });

  it("defaultStorageClass marks exactly that StorageClass as the shoot's default", () => {
    const objects = backends({ ...facts, storage: { defaultStorageClass: "ontap-encrypted", volumeSnapshotClass: false, volumeNaming: "Trident" } });
    const annotated = ofKind(objects, "StorageClass").filter((o) => o.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true");
    expect(annotated.map((o) => o.metadata.name)).toEqual(["ontap-encrypted"]);
  });

  it("volumeSnapshotClass renders Trident's configurator's class for its CSI driver", () => {
    const [vsc] = ofKind(backends({ ...facts, storage: { volumeSnapshotClass: true, volumeNaming: "Trident" } }), "VolumeSnapshotClass");
    expect(vsc).toEqual({ apiVersion: "snapshot.storage.k8s.io/v1", kind: "VolumeSnapshotClass", metadata: { name: "netapp-snapshot-class" }, driver: "csi.trident.netapp.io", deletionPolicy: "Delete" });
  });

  it("volumeNaming ShootAndClaim sets the backend's defaults.nameTemplate: project, shoot, namespace, claim, a piece of the UUID", () => {
    const [tbc] = ofKind(backends({ ...facts, storage: { volumeSnapshotClass: false, volumeNaming: "ShootAndClaim" } }), "TridentBackendConfig");
    expect(tbc!.spec!.defaults!.nameTemplate).toBe("p1_s1_{{.volume.Namespace}}_{{.volume.RequestName}}_{{slice .volume.Name 4 9}}");
    // Trident appends a UUID piece itself unless the template names .volume.Name (its volumeNameRegex).
    expect(/\{+.*\.volume.Name[^{a-z]*\}+/.test(volumeNameTemplate(facts))).toBe(true);
  });

  const cluster = { spec: { shoot: { metadata: { annotations: { "cluster.metal-stack.io/project": "0a1b2c3d-aaaa-4bbb-8ccc-1234567890ab" } } } } };
  const ext = (extra: object) => ({
    metadata: { namespace: "shoot--p1--s1" },
    spec: { providerConfig: { svmIpaddresses: { managementLif: "10.0.0.10", dataLifs: ["10.0.0.11"] }, ...extra } },
  });

  it("decodes the fields, defaulting to the Go extension's rendering", () => {
    expect(decodeShootInputs(ext({}), cluster).storage).toEqual({ volumeSnapshotClass: false, volumeNaming: "Trident" });
    expect(decodeShootInputs(ext({ defaultStorageClass: "ontap-gold", volumeSnapshotClass: true, volumeNaming: "ShootAndClaim" }), cluster).storage).toEqual({
      defaultStorageClass: "ontap-gold",
      volumeSnapshotClass: true,
      volumeNaming: "ShootAndClaim",
    });
  });

  it("refuses a defaultStorageClass that is not rendered, naming the field and the choices", () => {
    expect(() => decodeShootInputs(ext({ defaultStorageClass: "standard" }), cluster)).toThrow(InputError);
    expect(() => decodeShootInputs(ext({ defaultStorageClass: "standard" }), cluster)).toThrow(/spec\.providerConfig: defaultStorageClass: must be one of ontap-gold, ontap-encrypted/);
    expect(() => decodeShootInputs(ext({ volumeNaming: "pvc" }), cluster)).toThrow(/volumeNaming: must be Trident or ShootAndClaim/);
  });
});
