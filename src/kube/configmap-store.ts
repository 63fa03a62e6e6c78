import type { KubeClient } from "./client.js";
import { isKubeError } from "./errors.js";
import { ConfigMaps } from "./resources.js";

/**
 * A ConfigMap as a write-once map of strings: each key is written once (the first writer wins, another replica's
 * earlier value is returned), never overwritten. What the certificate pins of ONTAP clusters are kept in, so a
 * restart does not trust anew; removing a key is how an operator accepts a changed certificate. A fingerprint is
 * not a secret, so a ConfigMap, not a Secret.
 */
export interface WriteOnceStore {
  readonly where: string;
  /** The ConfigMap's data key for `key` (data keys allow `[-._a-zA-Z0-9]` only; `10.0.0.10:443` becomes `10.0.0.10_443`). */
  dataKey(key: string): string;
  /** Reads the ConfigMap once (absent: empty). */
  load(): Promise<Map<string, string>>;
  /** Writes `value` under `key` unless a value is there; resolves to the value that holds. */
  putIfAbsent(key: string, value: string): Promise<string>;
}

const ATTEMPTS = 5;

export function createConfigMapStore(kube: KubeClient, namespace: string, name: string, labels: Record<string, string> = {}): WriteOnceStore {
  const dataKey = (key: string) => key.replace(/[^-._a-zA-Z0-9]/g, "_");
  type Cm = { metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> }; data?: Record<string, string> };
  return {
    where: `ConfigMap ${namespace}/${name}`,
    dataKey,
    async load() {
      const cm = await kube.get<Cm>(ConfigMaps, namespace, name);
      return new Map(Object.entries(cm?.data ?? {}));
    },
    async putIfAbsent(key, value) {
      const k = dataKey(key);
      for (let attempt = 1; ; attempt++) {
        try {
          const cm = await kube.get<Cm>(ConfigMaps, namespace, name);
          const held = cm?.data?.[k];
          if (held !== undefined) return held;
          if (!cm) {
            await kube.create<Cm>(ConfigMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, labels }, data: { [k]: value } } as Cm);
          } else {
            await kube.update<Cm>(ConfigMaps, { ...cm, data: { ...(cm.data ?? {}), [k]: value } });
          }
          return value;
        } catch (err) {
          // Another replica wrote meanwhile: read again, and its value wins if it wrote this key.
          const raced = isKubeError(err) && (err.reason === "Conflict" || err.reason === "AlreadyExists");
          if (!raced || attempt >= ATTEMPTS) throw err;
        }
      }
    },
  };
}
