import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";

/** How a test world reaches one ONTAP cluster (the simulator's `SimClusterInfo` has this shape). */
export interface OntapClusterAccess {
  name: string;
  url: string;
  username: string;
  password: string;
  caFile: string;
}

/** Writes a component configuration the way an operator would: credentials in files, not in the config. */
export function writeControllerConfig(
  dir: string,
  clusters: OntapClusterAccess[],
  extra: Record<string, unknown> = {},
): string {
  mkdirSync(dir, { recursive: true });
  const entries = clusters.map((c) => {
    const credDir = path.join(dir, "credentials", c.name);
    mkdirSync(credDir, { recursive: true });
    writeFileSync(path.join(credDir, "username"), c.username, { mode: 0o600 });
    writeFileSync(path.join(credDir, "password"), c.password, { mode: 0o600 });
    return {
      name: c.name,
      url: c.url,
      caFile: c.caFile,
      usernameFile: path.join(credDir, "username"),
      passwordFile: path.join(credDir, "password"),
      timeoutSeconds: 3,
    };
  });
  const file = path.join(dir, "config.yaml");
  writeFileSync(
    file,
    stringify({
      apiVersion: "ontap.extensions.config.gardener.cloud/v1alpha1",
      kind: "ControllerConfiguration",
      clusters: entries,
      requeue: { baseSeconds: 0.1, capSeconds: 1.5 },
      // Explicit: the Go extension's rule (the seed's `firewall` namespace) would depend on the shared API server.
      clusterwideNetworkPolicy: true,
      shootWebhook: { url: "https://127.0.0.1:9443/webhooks/ontap", caFile: clusters[0]?.caFile },
      ...extra,
    }),
  );
  return file;
}
