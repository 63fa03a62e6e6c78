import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { RunningSimulator } from "../simulator/index.js";

/** The component configuration a deployment would mount: cluster credentials in files, never inline. */
export async function writeComponentConfig(
  dir: string,
  sim: RunningSimulator,
  webhook: { url: string; caFile: string },
  escalateAfterFailures: number,
): Promise<string> {
  const credentials = path.join(dir, "credentials");
  await mkdir(credentials, { recursive: true, mode: 0o700 });
  const entries: string[] = [];
  for (const c of sim.clusters) {
    const usernameFile = path.join(credentials, `${c.name}-username`);
    const passwordFile = path.join(credentials, `${c.name}-password`);
    await writeFile(usernameFile, c.username, { mode: 0o600 });
    await writeFile(passwordFile, c.password, { mode: 0o600 });
    entries.push(
      [
        `  - name: ${c.name}`,
        `    url: ${c.url}`,
        `    caFile: ${c.caFile}`,
        `    usernameFile: ${usernameFile}`,
        `    passwordFile: ${passwordFile}`,
        "    timeoutSeconds: 5",
      ].join("\n"),
    );
  }
  const file = path.join(dir, "config.yaml");
  await writeFile(
    file,
    [
      "# The demo's component configuration (what `run --config` and `doctor --config` read).",
      "clusters:",
      ...entries,
      "# The demo's seed has no `firewall` namespace; render the ClusterwideNetworkPolicy anyway, as metal-stack seeds do.",
      "clusterwideNetworkPolicy: true",
      "# Lab only: each simulated SVM management LIF listens on its own local port; the simulator keeps this map.",
      "credentialsVerification:",
      `  managementLifUrlsFile: ${sim.lifEndpointsFile}`,
      "# The shoot webhook: each shoot's kube-apiserver reaches this process on loopback.",
      "shootWebhook:",
      `  url: ${webhook.url}`,
      `  caFile: ${webhook.caFile}`,
      "# Short backoff and early escalation so the demo shows both within seconds.",
      "requeue:",
      "  baseSeconds: 0.5",
      "  capSeconds: 2",
      "escalation:",
      `  consecutiveFailures: ${escalateAfterFailures}`,
      "  afterMinutes: 30",
      "",
    ].join("\n"),
  );
  return file;
}
