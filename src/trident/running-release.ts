import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { parseAllDocuments } from "yaml";
import { TRIDENT_OPERATOR_NAME } from "./names.js";
import { tridentReleaseOf } from "./release.js";

/**
 * The Trident release the `trident-init` ManagedResource's Secret deploys: the image of the Deployment
 * `kube-system/trident-operator` in it, whoever wrote it (this controller, or the Go extension on a shoot taken
 * over). What runs when the status has no record (a shoot taken over, a status lost), so a reconcile never
 * renders an older Trident than the one in the shoot. Data keys may be compressed as Gardener's helpers do
 * (`.br`, `.gz`). Undefined when the Secret holds no such Deployment or no release tag.
 */
export function tridentVersionInManagedResourceSecret(secret: { data?: Record<string, string> } | undefined): string | undefined {
  for (const [key, value] of Object.entries(secret?.data ?? {})) {
    let text: string;
    try {
      const raw = Buffer.from(value, "base64");
      text = (key.endsWith(".br") ? brotliDecompressSync(raw) : key.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
    } catch {
      continue;
    }
    for (const doc of parseAllDocuments(text)) {
      const o = doc.toJS() as { kind?: unknown; metadata?: { name?: unknown }; spec?: { template?: { spec?: { containers?: { name?: unknown; image?: unknown }[] } } } } | null;
      if (o?.kind !== "Deployment" || o.metadata?.name !== TRIDENT_OPERATOR_NAME) continue;
      const image = o.spec?.template?.spec?.containers?.find((c) => c.name === TRIDENT_OPERATOR_NAME)?.image;
      if (typeof image !== "string") continue;
      try {
        return tridentReleaseOf(image).version;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
