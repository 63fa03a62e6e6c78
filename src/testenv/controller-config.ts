import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Document, isScalar, type Pair } from "yaml";

/** How a test world reaches one ONTAP cluster (the simulator's `SimClusterInfo` has this shape). */
export interface OntapClusterAccess {
  name: string;
  url: string;
  username: string;
  password: string;
  caFile: string;
}

export interface ControllerConfigFileOptions {
  /** Each cluster's `timeoutSeconds` (default 3). */
  clusterTimeoutSeconds?: number;
  /** A comment at the top of the file. */
  header?: string;
  /** A comment above a top-level key, for a reader of the file (the demo prints its path). */
  comments?: Record<string, string>;
}

/**
 * Writes a component configuration the way an operator would: credentials in files, not in the config. The
 * tests' process lanes, the benchmark and the demo all run the controller from such a file.
 */
export function writeControllerConfig(
  dir: string,
  clusters: OntapClusterAccess[],
  extra: Record<string, unknown> = {},
  opts: ControllerConfigFileOptions = {},
): string {
  mkdirSync(dir, { recursive: true });
  const entries = clusters.map((c) => {
    const credDir = path.join(dir, "credentials", c.name);
    mkdirSync(credDir, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(credDir, "username"), c.username, { mode: 0o600 });
    writeFileSync(path.join(credDir, "password"), c.password, { mode: 0o600 });
    return {
      name: c.name,
      url: c.url,
      caFile: c.caFile,
      usernameFile: path.join(credDir, "username"),
      passwordFile: path.join(credDir, "password"),
      timeoutSeconds: opts.clusterTimeoutSeconds ?? 3,
    };
  });
  const doc = new Document({
    apiVersion: "ontap.extensions.config.gardener.cloud/v1alpha1",
    kind: "ControllerConfiguration",
    clusters: entries,
    requeue: { baseSeconds: 0.1, capSeconds: 1.5 },
    // Explicit: the Go extension's rule (the seed's `firewall` namespace) would depend on the shared API server.
    clusterwideNetworkPolicy: true,
    shootWebhook: { url: "https://127.0.0.1:9443/webhooks/ontap", caFile: clusters[0]?.caFile },
    ...extra,
  });
  if (opts.header) doc.commentBefore = ` ${opts.header}`;
  for (const pair of (doc.contents as { items: Pair[] }).items) {
    const comment = isScalar(pair.key) ? opts.comments?.[String(pair.key.value)] : undefined;
    if (comment && isScalar(pair.key)) pair.key.commentBefore = ` ${comment}`;
  }
  const file = path.join(dir, "config.yaml");
  writeFileSync(file, String(doc));
  return file;
}
