import type { KubeClient } from "../kube/client.js";
import { isKubeError } from "../kube/errors.js";
import { Secrets } from "../kube/resources.js";
import type { SecretObject } from "./secret-object.js";

/**
 * The Go extension's per-shoot Secret in the seed's kube-system, read once to take a shoot over and deleted
 * after. The chart grants that access only while `takeover.goSecrets.enabled` (and, with
 * `takeover.goSecrets.names`, only to those names): once the takeover is done an operator turns it off, and
 * then the API server answers 403. A 403 here means "no takeover to do", never a failed reconcile: the
 * Secret is treated as absent (read) or left alone (delete), and the caller says so once in a Normal event.
 */

/** Why the Go extension's Secret was not looked at: the event's message names the value that decides it. */
export function takeoverForbiddenMessage(ref: { namespace: string; name: string }): string {
  return (
    `the Go extension's Secret ${ref.namespace}/${ref.name} is not readable by this controller (403: the chart's takeover.goSecrets ` +
    "grant is off or does not name it): no takeover to do, the shoot gets its own user; enable takeover.goSecrets while Go-extension shoots remain"
  );
}

export type GoSecretRead = { kind: "read"; secret: SecretObject | undefined } | { kind: "forbidden" };

export async function readGoSecret(kube: KubeClient, ref: { namespace: string; name: string }): Promise<GoSecretRead> {
  try {
    return { kind: "read", secret: await kube.get<SecretObject>(Secrets, ref.namespace, ref.name) };
  } catch (err) {
    if (isKubeError(err, "Forbidden")) return { kind: "forbidden" };
    throw err;
  }
}

/** Deletes it; answers false when the grant is off (nothing to delete that this controller may see). */
export async function deleteGoSecret(kube: KubeClient, ref: { namespace: string; name: string }): Promise<boolean> {
  try {
    await kube.delete(Secrets, ref.namespace, ref.name);
    return true;
  } catch (err) {
    if (isKubeError(err, "Forbidden")) return false;
    throw err;
  }
}
