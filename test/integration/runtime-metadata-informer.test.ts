import { describe, expect, it } from "vitest";
import { createKubeClient } from "../../src/kube/client.js";
import { Secrets } from "../../src/kube/resources.js";
import { createInformer } from "../../src/runtime/informer.js";
import { eventually, freshNamespace, loadKubeConfig } from "../support/kube-test-helpers.js";

interface SecretLike {
  kind?: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

describe("metadata-only informer", () => {
  it("caches a Secret's labels and annotations but never its data, through list and watch", async () => {
    const kc = loadKubeConfig();
    const kube = createKubeClient(kc);
    const ns = await freshNamespace(kc, { prefix: "meta" });
    const secret = (name: string) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace: ns, labels: { origin: "meta-test" }, annotations: { hash: name } },
      data: { password: Buffer.from("do-not-cache-me").toString("base64") },
    });
    await kube.create(Secrets, secret("listed"));
    const informer = createInformer<SecretLike>(kube, Secrets, { namespace: ns, labelSelector: "origin=meta-test", metadataOnly: true });
    const stop = new AbortController();
    await informer.start(stop.signal);
    try {
      await kube.create(Secrets, secret("watched"));
      await eventually(() => expect(informer.get(ns, "watched")).toBeDefined(), { timeoutMs: 10_000 });
      for (const name of ["listed", "watched"]) {
        const cached = informer.get(ns, name);
        expect(cached?.metadata.annotations?.hash).toBe(name);
        expect(cached?.data).toBeUndefined();
        expect(JSON.stringify(cached)).not.toContain(Buffer.from("do-not-cache-me").toString("base64"));
      }
    } finally {
      stop.abort();
      await informer.stopped();
    }
  });
});
