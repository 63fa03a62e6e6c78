import { brotliCompressSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadImageVector } from "../../src/config/component-config.js";
import { MANAGED_RESOURCE_ORIGIN, renderTridentManagedResources, selectTrident, toManagedResourceObjects, tridentVersionInManagedResourceSecret } from "../../src/trident/index.js";

const facts = {
  svmName: "p0123",
  managementLif: "10.1.0.10",
  dataLifs: ["10.1.0.11"],
  credentialsSecretName: "p0123-proj--shoot-credentials",
  username: "proj--shoot",
  password: "pw",
  firewallNamespaceExists: false,
};

const operator = (image: string) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "trident-operator", namespace: "kube-system" },
  spec: { template: { spec: { containers: [{ name: "trident-operator", image }] } } },
});
const b64 = (text: string | Buffer) => Buffer.from(text).toString("base64");

describe("the Trident that runs, read from the live trident-init Secret", () => {
  it("reads this controller's Secret, the Go extension's (netapp/trident-operator:25.06.3) and a brotli-compressed one", () => {
    const init = renderTridentManagedResources({ ...facts, operatorImage: "docker.io/netapp/trident-operator:26.02.1" }).find((p) => p.name === "trident-init")!;
    const ours = toManagedResourceObjects(init, { namespace: "shoot--p--s", origin: MANAGED_RESOURCE_ORIGIN }).secret;
    expect(tridentVersionInManagedResourceSecret(ours)).toBe("26.02.1");
    const go = { data: { "objects.yaml": b64(`${stringify({ kind: "ServiceAccount", metadata: { name: "trident-operator" } })}---\n${stringify(operator("netapp/trident-operator:25.06.3"))}`) } };
    expect(tridentVersionInManagedResourceSecret(go)).toBe("25.06.3");
    const compressed = { data: { "data.yaml.br": b64(brotliCompressSync(Buffer.from(stringify(operator("registry.example/trident-operator:26.06.0"))))) } };
    expect(tridentVersionInManagedResourceSecret(compressed)).toBe("26.06.0");
    expect(tridentVersionInManagedResourceSecret(undefined)).toBeUndefined();
    expect(tridentVersionInManagedResourceSecret({ data: { "x.yaml": b64(stringify(operator("netapp/trident-operator:latest"))) } })).toBeUndefined();
  });

  it("keeps what runs when the vector would give an older release", () => {
    const running = tridentVersionInManagedResourceSecret({ data: { "a.yaml": b64(stringify(operator("docker.io/netapp/trident-operator:26.02.1"))) } });
    const selection = selectTrident({ vector: loadImageVector(""), kubernetesVersion: "1.34.2", runningVersion: running });
    expect(selection).toMatchObject({ release: { version: "26.02.1" }, reason: "kept" });
  });
});
