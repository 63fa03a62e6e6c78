import { describe, expect, it } from "vitest";
import { evaluateHealth, STORAGE_HEALTHY } from "../../src/health/evaluate.js";
import { type AccessSecret, accessSecret, accessSecretProjection, createShootAccess, defaultShootApiServer } from "../../src/health/shoot-access.js";
import type { KubeClient } from "../../src/kube/client.js";
import { type ShootTridentObservation, shootTridentRows } from "../../src/health/shoot-trident.js";
import type { ShootObservation } from "../../src/diagnosis/observation.js";

const bound = { ok: true as const, value: { metadata: { name: "ontap-pabc-backend" }, status: { phase: "Bound", lastOperationStatus: "Success", message: "Backend 'ontap-pabc' created" } } };
const mutatedDaemonSet = {
  ok: true as const,
  value: {
    metadata: { name: "trident-node-linux", labels: { "ontap.extensions.gardener.cloud/mutated-by-webhook": "true" } },
    spec: { template: { spec: { initContainers: [{ name: "init-nvme-tcp" }] } } },
  },
};
const read = (over: Partial<Extract<ShootTridentObservation, { kind: "read" }>> = {}): ShootTridentObservation => ({
  kind: "read",
  backendConfig: "ontap-pabc-backend",
  backend: bound,
  nodeDaemonSet: mutatedDaemonSet,
  ...over,
});
const statusOf = (obs: ShootTridentObservation) => shootTridentRows(obs).map((r) => r.status);

describe("the shoot side of the storage health check (pure)", () => {
  it("a Bound backend and a mutated node DaemonSet are ok", () => {
    expect(statusOf(read())).toEqual(["ok", "ok"]);
  });

  it("a backend Trident failed is a failing row with Trident's message and what to do", () => {
    const [row] = shootTridentRows(read({ backend: { ok: true, value: { metadata: { name: "x" }, status: { phase: "Unbound", lastOperationStatus: "Failed", message: "error reading SVM details" } } } }));
    expect(row).toMatchObject({ status: "fail", check: "Trident backend kube-system/ontap-pabc-backend" });
    expect(row!.actual).toContain("error reading SVM details");
    expect(row!.action).toContain("trident-controller");
    // Bound but the last operation (an update) failed: still failing.
    expect(statusOf(read({ backend: { ok: true, value: { metadata: { name: "x" }, status: { phase: "Bound", lastOperationStatus: "Failed" } } } }))[0]).toBe("fail");
  });

  it("a backend Trident has not looked at yet, or is processing, is no failure", () => {
    expect(statusOf(read({ backend: { ok: true, value: { metadata: { name: "x" } } } }))[0]).toBe("warn");
    expect(statusOf(read({ backend: { ok: true, value: undefined } }))[0]).toBe("warn");
    expect(statusOf(read({ backend: { ok: true, value: { metadata: { name: "x" }, status: { phase: "Unbound", lastOperationStatus: "Processing" } } } }))[0]).toBe("warn");
  });

  it("an unmutated node DaemonSet fails, naming what is missing and the command that has it admitted again", () => {
    const [, row] = shootTridentRows(read({ nodeDaemonSet: { ok: true, value: { metadata: { name: "trident-node-linux" }, spec: { template: { spec: {} } } } } }));
    expect(row!.status).toBe("fail");
    expect(row!.actual).toContain("it lacks the label and the init-nvme-tcp init container");
    expect(row!.action).toContain("rollout restart daemonset trident-node-linux");
    // Not created yet by Trident's operator: nothing to say.
    expect(statusOf(read({ nodeDaemonSet: { ok: true, value: undefined } }))[1]).toBe("skip");
  });

  it("a shoot that cannot be read is Unknown; one not offered adds nothing; a token on its way is no failure", () => {
    expect(statusOf({ kind: "failed", reason: "the Secret is missing" })).toEqual(["unknown"]);
    expect(statusOf({ kind: "not-offered" })).toEqual([]);
    expect(statusOf({ kind: "pending", reason: "waiting" })).toEqual(["warn"]);
  });

  it("folds into StorageHealthy: a failing backend makes it False with the message", () => {
    const observation = { clusters: [] } as unknown as ShootObservation;
    const shootRows = shootTridentRows(read({ backend: { ok: true, value: { metadata: { name: "x" }, status: { phase: "Unknown", lastOperationStatus: "Failed", message: "boom" } } } }));
    const report = evaluateHealth({ observation, rows: [], webhook: { result: "not-configured" }, shootRows });
    const storage = report.conditions.find((c) => c.type === STORAGE_HEALTHY)!;
    expect(storage.status).toBe("False");
    expect(storage.message).toContain("boom");
  });
});

describe("reaching the shoot as Gardener offers it", () => {
  it("goes to the shoot API server's Service in the shoot namespace by default", () => {
    expect(defaultShootApiServer("shoot--p--s")).toBe("https://kube-apiserver.shoot--p--s.svc");
  });

  it("the access Secret carries the token requestor's labels and annotations and is owned by the Extension", () => {
    const secret = accessSecret({ metadata: { name: "ontap", namespace: "shoot--p--s", uid: "u-1" } } as never);
    expect(secret.metadata!.name).toBe("shoot-access-extension-ontap-health");
    expect(secret.metadata!.labels).toEqual({ "resources.gardener.cloud/purpose": "token-requestor", "resources.gardener.cloud/class": "shoot" });
    expect(secret.metadata!.annotations).toEqual({
      "serviceaccount.resources.gardener.cloud/name": "extension-ontap-health",
      "serviceaccount.resources.gardener.cloud/namespace": "kube-system",
      "serviceaccount.resources.gardener.cloud/inject-ca-bundle": "true",
    });
    expect(secret.metadata!.ownerReferences?.[0]).toMatchObject({ kind: "Extension", name: "ontap", uid: "u-1" });
  });

  // At 1,000 shoots the health check read 1,000 access Secrets every 30 s (33 GETs/s at rest): it reads the cache.
  describe("the access Secret comes from the cache once it has listed", () => {
    const ext = { metadata: { name: "ontap", namespace: "shoot--p--s", uid: "u-1" } } as never;
    const b64 = (s: string) => Buffer.from(s).toString("base64");
    const issued = (token: string): AccessSecret => ({
      metadata: { name: "shoot-access-extension-ontap-health", namespace: "shoot--p--s", resourceVersion: token, labels: { a: "b" }, managedFields: [{}] },
      data: { token: b64(token), "bundle.crt": b64("-----BEGIN CERTIFICATE-----"), other: b64("dropped") },
    } as never);
    const seed = () => {
      const calls: string[] = [];
      const kube = {
        get: async () => {
          calls.push("get");
          return undefined;
        },
        create: async () => {
          calls.push("create");
          return undefined;
        },
      } as unknown as KubeClient;
      return { kube, calls };
    };

    it("no GET of the seed when the cache holds the Secret; a renewed token replaces the shoot's client", async () => {
      const { kube, calls } = seed();
      let cached: AccessSecret | undefined = accessSecretProjection(issued("t1"));
      const access = createShootAccess({ seed: kube, serverOf: () => "https://127.0.0.1:1", secrets: { hasSynced: () => true, get: () => cached } });
      const clientOf = async () => {
        const connection = await access.connect(ext);
        return connection.kind === "connected" ? connection.kube : connection.kind;
      };
      const first = await clientOf();
      expect(typeof first).toBe("object");
      expect(await clientOf()).toBe(first);
      cached = accessSecretProjection(issued("t2"));
      const renewed = await clientOf();
      expect(typeof renewed).toBe("object");
      expect(renewed).not.toBe(first);
      expect(calls).toEqual([]);
    });

    it("absent from the synced cache: created once asked, pending; before the cache has listed: one GET", async () => {
      const { kube, calls } = seed();
      const access = createShootAccess({ seed: kube, serverOf: () => "https://127.0.0.1:1", secrets: { hasSynced: () => true, get: () => undefined } });
      expect((await access.connect(ext)).kind).toBe("pending");
      expect(calls).toEqual(["create"]);
      const unsynced = seed();
      const early = createShootAccess({ seed: unsynced.kube, serverOf: () => "https://127.0.0.1:1", secrets: { hasSynced: () => false, get: () => undefined } });
      expect((await early.connect(ext)).kind).toBe("pending");
      expect(unsynced.calls).toEqual(["get", "create"]);
    });

    it("the cache keeps only the identity, the token and the CA bundle", () => {
      const kept = accessSecretProjection(issued("t1"));
      expect(Object.keys(kept.data ?? {}).sort()).toEqual(["bundle.crt", "token"]);
      expect(kept.metadata).toEqual({ name: "shoot-access-extension-ontap-health", namespace: "shoot--p--s", resourceVersion: "t1", uid: undefined });
      expect(accessSecretProjection(kept)).toEqual(kept);
    });
  });
});
