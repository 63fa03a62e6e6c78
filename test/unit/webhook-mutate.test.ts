import { describe, expect, it } from "vitest";
import { TRIDENT_CRD_NAMES } from "../../src/trident/index.js";
import {
  type AdmissionReview,
  admit,
  DEFAULT_INIT_IMAGE,
  diffToJsonPatch,
  type JsonPatchOperation,
  mutate,
} from "../../src/webhook/index.js";

// biome-ignore lint/suspicious/noExplicitAny: admission objects are free-form JSON
type Json = any;

/** RFC 6902 add/replace/remove, written independently of the code under test to check its patches. */
function applyPatch(document: Json, ops: JsonPatchOperation[]): Json {
  const doc = structuredClone(document);
  for (const op of ops) {
    const tokens = op.path.split("/").slice(1).map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
    if (tokens.length === 0) throw new Error("whole-document ops are not expected");
    const last = tokens.pop()!;
    let parent = doc;
    for (const t of tokens) {
      parent = Array.isArray(parent) ? parent[Number(t)] : parent[t];
      if (parent === undefined) throw new Error(`path ${op.path} does not exist`);
    }
    if (op.op === "remove") {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (Array.isArray(parent)) {
      if (op.op === "add") parent.splice(last === "-" ? parent.length : Number(last), 0, op.value);
      else parent[Number(last)] = op.value;
    } else {
      if (op.op === "replace" && !(last in parent)) throw new Error(`replace of missing ${op.path}`);
      parent[last] = op.value;
    }
  }
  return doc;
}

function review(object: Json, overrides: Json = {}): AdmissionReview {
  const apiVersion = typeof object.apiVersion === "string" ? object.apiVersion : "";
  const slash = apiVersion.indexOf("/");
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "8f1e4c1e-1111-4222-8333-944455556666",
      kind: { group: slash < 0 ? "" : apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1), kind: object.kind },
      name: object.metadata?.name,
      namespace: object.metadata?.namespace,
      operation: "CREATE",
      object,
      ...overrides,
    },
  };
}

function patchOf(answer: AdmissionReview): JsonPatchOperation[] {
  const r = answer.response!;
  if (r.patch === undefined) return [];
  expect(r.patchType).toBe("JSONPatch");
  const ops = JSON.parse(Buffer.from(r.patch, "base64").toString("utf8"));
  expect(Array.isArray(ops)).toBe(true);
  expect(ops.length).toBeGreaterThan(0);
  return ops;
}

/** Mutates through the webhook and returns the object the API server would store. */
function mutated(object: Json, overrides: Json = {}): Json {
  const answer = mutate(review(object, overrides));
  expect(answer.response?.allowed).toBe(true);
  return applyPatch(object, patchOf(answer));
}

function crd(name: string): Json {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name, labels: { "app.kubernetes.io/part-of": "trident" } },
    spec: { group: name.slice(name.indexOf(".") + 1) },
  };
}

/** Shaped like what the Trident operator creates (trimmed), with API-server defaults. */
function nodeDaemonSet(namespace = "kube-system", name = "trident-node-linux"): Json {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace, labels: { app: "node.csi.trident.netapp.io" } },
    spec: {
      selector: { matchLabels: { app: "node.csi.trident.netapp.io" } },
      template: {
        metadata: { labels: { app: "node.csi.trident.netapp.io" } },
        spec: {
          hostNetwork: true,
          dnsPolicy: "ClusterFirstWithHostNet",
          serviceAccountName: "trident-node-linux",
          initContainers: [{ name: "trident-init", image: "netapp/trident:25.06.2", terminationMessagePath: "/dev/termination-log" }],
          containers: [{ name: "trident-main", image: "netapp/trident:25.06.2" }],
          volumes: [{ name: "dev-dir", hostPath: { path: "/dev", type: "Directory" } }],
        },
      },
    },
  };
}

function controllerDeployment(): Json {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "trident-controller", namespace: "kube-system", labels: { app: "controller.csi.trident.netapp.io" } },
    spec: {
      selector: { matchLabels: { app: "controller.csi.trident.netapp.io" } },
      template: {
        metadata: { labels: { app: "controller.csi.trident.netapp.io" } },
        spec: { containers: [{ name: "trident-main", image: "netapp/trident:25.06.2" }] },
      },
    },
  };
}

describe("mutate: Trident CRDs", () => {
  it("labels each of the 15 Trident CRDs no-cleanup and mutated-by-webhook, keeping existing labels", () => {
    expect(TRIDENT_CRD_NAMES).toHaveLength(15);
    for (const name of TRIDENT_CRD_NAMES) {
      expect(mutated(crd(name)).metadata.labels, name).toEqual({
        "app.kubernetes.io/part-of": "trident",
        "shoot.gardener.cloud/no-cleanup": "true",
        "ontap.extensions.gardener.cloud/mutated-by-webhook": "true",
      });
    }
  });

  it("adds the labels to a CRD that has none", () => {
    const bare = crd("tridentnodes.trident.netapp.io");
    delete bare.metadata.labels;
    expect(mutated(bare).metadata.labels).toEqual({
      "shoot.gardener.cloud/no-cleanup": "true",
      "ontap.extensions.gardener.cloud/mutated-by-webhook": "true",
    });
  });

  it("leaves every other CRD alone", () => {
    for (const name of ["certificates.cert-manager.io", "tridentfoos.trident.netapp.io", "tridentorchestrators.trident.netapp.io"]) {
      const answer = mutate(review(crd(name)));
      expect(answer.response).toEqual({ uid: "8f1e4c1e-1111-4222-8333-944455556666", allowed: true });
    }
  });
});

describe("mutate: DaemonSet kube-system/trident-node-linux", () => {
  const result = mutated(nodeDaemonSet());
  const pod = result.spec.template.spec;

  it("resolves names through the node (dnsPolicy Default)", () => {
    expect(pod.dnsPolicy).toBe("Default");
  });

  it("loads nvme-tcp first in a privileged init container with the host's /lib/modules", () => {
    expect(pod.initContainers.map((c: Json) => c.name)).toEqual(["init-nvme-tcp", "trident-init"]);
    const init = pod.initContainers[0];
    expect(init.image).toBe(DEFAULT_INIT_IMAGE);
    expect(init.securityContext).toEqual({ privileged: true });
    expect(init.command.join(" ")).toContain("modprobe nvme-tcp");
    expect(init.command.join(" ")).toContain("/sys/module/nvme_tcp");
    const mount = init.volumeMounts.find((m: Json) => m.mountPath === "/lib/modules");
    expect(mount).toMatchObject({ readOnly: true, mountPropagation: "HostToContainer" });
    const volume = pod.volumes.find((v: Json) => v.name === mount.name);
    expect(volume.hostPath.path).toBe("/lib/modules");
    expect(pod.volumes.map((v: Json) => v.name)).toContain("dev-dir");
  });

  it("tells Gardener to wait for the Trident CSI driver on new nodes and marks the pods node-critical", () => {
    expect(result.spec.template.metadata.annotations).toEqual({
      "node.gardener.cloud/wait-for-csi-node-trident": "csi.trident.netapp.io",
    });
    expect(result.spec.template.metadata.labels).toEqual({
      app: "node.csi.trident.netapp.io",
      "node.gardener.cloud/critical-component": "true",
      "networking.gardener.cloud/to-apiserver": "allowed",
      "networking.gardener.cloud/to-dns": "allowed",
    });
    expect(result.metadata.labels).toMatchObject({
      app: "node.csi.trident.netapp.io",
      "node.gardener.cloud/critical-component": "true",
      "shoot.gardener.cloud/no-cleanup": "true",
      "ontap.extensions.gardener.cloud/mutated-by-webhook": "true",
    });
  });

  it("tolerates Gardener's critical-components-not-ready taint unless a toleration already covers it", () => {
    expect(pod.tolerations).toEqual([
      { key: "node.gardener.cloud/critical-components-not-ready", operator: "Exists", effect: "NoSchedule" },
    ]);
    const covering = [
      [{ operator: "Exists" }],
      [{ operator: "Exists", effect: "NoSchedule" }],
      [{ key: "node.gardener.cloud/critical-components-not-ready", operator: "Exists" }],
    ];
    for (const tolerations of covering) {
      const ds = nodeDaemonSet();
      ds.spec.template.spec.tolerations = tolerations;
      expect(mutated(ds).spec.template.spec.tolerations, JSON.stringify(tolerations)).toEqual(tolerations);
    }
    const ds = nodeDaemonSet();
    ds.spec.template.spec.tolerations = [{ operator: "Exists", effect: "NoExecute" }];
    expect(mutated(ds).spec.template.spec.tolerations).toHaveLength(2);
  });

  it("does not touch the selector or the Trident containers", () => {
    expect(result.spec.selector).toEqual(nodeDaemonSet().spec.selector);
    expect(pod.containers).toEqual(nodeDaemonSet().spec.template.spec.containers);
  });

  it("uses the configured init image", () => {
    const answer = mutate(review(nodeDaemonSet()), { initContainerImage: "registry.example/kmod:1" });
    const out = applyPatch(nodeDaemonSet(), patchOf(answer));
    expect(out.spec.template.spec.initContainers[0].image).toBe("registry.example/kmod:1");
  });

  it("ignores a DaemonSet of that name elsewhere and other DaemonSets in kube-system", () => {
    for (const ds of [nodeDaemonSet("default"), nodeDaemonSet("kube-system", "calico-node")]) {
      expect(patchOf(mutate(review(ds)))).toEqual([]);
    }
  });
});

describe("mutate: Deployment kube-system/trident-controller", () => {
  it("adds the pod labels and object labels and nothing else", () => {
    const result = mutated(controllerDeployment());
    expect(result.spec.template.metadata.labels).toEqual({
      app: "controller.csi.trident.netapp.io",
      "node.gardener.cloud/critical-component": "true",
      "networking.gardener.cloud/to-apiserver": "allowed",
      "networking.gardener.cloud/to-dns": "allowed",
    });
    expect(result.metadata.labels).toEqual({
      app: "controller.csi.trident.netapp.io",
      "shoot.gardener.cloud/no-cleanup": "true",
      "ontap.extensions.gardener.cloud/mutated-by-webhook": "true",
    });
    expect(result.spec.template.spec).toEqual(controllerDeployment().spec.template.spec);
  });
});

describe("mutate: idempotence", () => {
  const objects: [string, Json][] = [
    ["a Trident CRD", crd("tridentvolumes.trident.netapp.io")],
    ["the node DaemonSet", nodeDaemonSet()],
    ["the controller Deployment", controllerDeployment()],
  ];
  for (const [what, object] of objects) {
    it(`yields no patch for ${what} it already mutated (on UPDATE)`, () => {
      const once = mutated(object);
      const answer = mutate(review(once, { operation: "UPDATE", oldObject: once }));
      expect(answer.response).toEqual({ uid: "8f1e4c1e-1111-4222-8333-944455556666", allowed: true });
    });
  }

  it("yields no patch after the API server added defaults to the injected init container and volume", () => {
    const stored = mutated(nodeDaemonSet());
    const pod = stored.spec.template.spec;
    Object.assign(pod.initContainers[0], {
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
    });
    pod.volumes.find((v: Json) => v.name !== "dev-dir").hostPath.type = "";
    expect(patchOf(mutate(review(stored, { operation: "UPDATE" })))).toEqual([]);
  });

  it("replaces an outdated init-nvme-tcp container instead of adding a second one", () => {
    const old = nodeDaemonSet();
    old.spec.template.spec.initContainers.unshift({ name: "init-nvme-tcp", image: "busybox:1.30", command: ["modprobe", "nvme-tcp"] });
    const result = mutated(old, { operation: "UPDATE" });
    const inits = result.spec.template.spec.initContainers;
    expect(inits.filter((c: Json) => c.name === "init-nvme-tcp")).toHaveLength(1);
    expect(inits[0].image).toBe(DEFAULT_INIT_IMAGE);
    expect(inits[0].securityContext).toEqual({ privileged: true });
  });
});

describe("mutate: what it leaves alone", () => {
  it("does not mutate objects that are being deleted", () => {
    for (const object of [crd("tridentvolumes.trident.netapp.io"), nodeDaemonSet(), controllerDeployment()]) {
      object.metadata.deletionTimestamp = "2025-06-01T00:00:00Z";
      const { review: answer, outcome } = admit(review(object, { operation: "UPDATE" }));
      expect(answer.response).toEqual({ uid: "8f1e4c1e-1111-4222-8333-944455556666", allowed: true });
      expect(outcome.skipped).toBe("deleting");
    }
  });

  it("does not answer DELETE or CONNECT with a patch", () => {
    for (const operation of ["DELETE", "CONNECT"]) {
      expect(patchOf(mutate(review(nodeDaemonSet(), { operation })))).toEqual([]);
    }
  });
});

describe("mutate: malformed input", () => {
  const malformed: [string, unknown][] = [
    ["undefined", undefined],
    ["a string", "not a review"],
    ["an array", []],
    ["an empty object", {}],
    ["a v1beta1 review", { apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview", request: { uid: "u" } }],
    ["a review without request", { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }],
    ["a request without uid", { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { operation: "CREATE", object: {} } }],
    ["a request without object", { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "u", operation: "CREATE" } }],
  ];
  for (const [what, input] of malformed) {
    it(`allows ${what} with a warning and no patch`, () => {
      const answer = mutate(input);
      expect(answer.apiVersion).toBe("admission.k8s.io/v1");
      expect(answer.kind).toBe("AdmissionReview");
      expect(answer.response?.allowed).toBe(true);
      expect(answer.response?.patch).toBeUndefined();
      expect(answer.response?.warnings?.[0]).toMatch(/^ontap shoot webhook: /);
    });
  }

  it("echoes the uid when it has one", () => {
    const answer = mutate({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "abc", operation: "CREATE" } });
    expect(answer.response?.uid).toBe("abc");
  });

  it("allows a Trident object whose fields have the wrong shape, unchanged, with a warning naming it", () => {
    const ds = nodeDaemonSet();
    ds.spec.template.spec.initContainers = "not a list";
    const answer = mutate(review(ds));
    expect(answer.response?.patch).toBeUndefined();
    expect(answer.response?.warnings?.[0]).toContain("DaemonSet kube-system/trident-node-linux: initContainers is not a list");

    const labelsAsString = crd("tridentnodes.trident.netapp.io");
    labelsAsString.metadata.labels = "x";
    expect(mutate(review(labelsAsString)).response?.warnings?.[0]).toContain("labels is not an object");
  });

  it("never throws, whatever the object looks like", () => {
    const shapes: Json[] = [
      { metadata: 5 },
      { apiVersion: 7, kind: [], metadata: { name: {} } },
      { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "trident-node-linux", namespace: "kube-system" }, spec: [] },
      { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "trident-node-linux", namespace: "kube-system" }, spec: { template: null } },
      null,
    ];
    for (const object of shapes) {
      const r = review(object ?? {}, { object, kind: undefined });
      expect(() => mutate(r)).not.toThrow();
      expect(mutate(r).response?.allowed).toBe(true);
    }
  });
});

describe("diffToJsonPatch", () => {
  it("escapes '/' and '~' in keys and reproduces the target when applied", () => {
    const before = { metadata: { labels: { a: "1", "x/y": "old", gone: "g" } }, list: [1, 2] };
    const after = { metadata: { labels: { a: "1", "x/y": "new", "t~z": "t" } }, list: [0, 1, 2], added: { n: 1 } };
    const ops = diffToJsonPatch(before, after);
    expect(ops).toContainEqual({ op: "replace", path: "/metadata/labels/x~1y", value: "new" });
    expect(ops).toContainEqual({ op: "add", path: "/metadata/labels/t~0z", value: "t" });
    expect(ops).toContainEqual({ op: "remove", path: "/metadata/labels/gone" });
    expect(applyPatch(before, ops)).toEqual(after);
    expect(diffToJsonPatch(after, structuredClone(after))).toEqual([]);
  });
});
