import {
  MR_SHOOT_WEBHOOK,
  MR_TRIDENT_BACKENDS,
  MR_TRIDENT_CRDS,
  MR_TRIDENT_CWNP,
  MR_TRIDENT_INIT,
  MR_TRIDENT_SVM_SECRET,
  managedResourceSecretName,
} from "../trident/index.js";

/** One of the shoot's components: a ManagedResource in the shoot namespace, and which step deploys it. */
export interface ShootComponent {
  name: string;
  /** The reconcile step that writes it: Trident's components or the shoot webhook's. */
  part: "trident" | "webhook";
  /** Deploy waits (by requeueing) until it is healthy before the components after it are written. */
  waitHealthy?: boolean;
  /** Rendered only when the seed has a `firewall` namespace (or the configuration says so). */
  onlyWithFirewall?: boolean;
}

/**
 * The shoot's components, every ManagedResource this controller keeps in a shoot namespace, in the order
 * they depend on each other (Gardener's `pkg/component`, registry-cache's Deploy / Destroy):
 * - `extension-ontap-shoot`, the shoot webhook: it mutates Trident's pods, so it is there before they are and
 *   goes only once they are gone;
 * - `trident-crds`, the operator's CRDs: healthy before anything of Trident that uses them is written;
 * - `trident-backends`, `trident-svm-secret`, `trident-cwnp` (with a firewall only), `trident-init` (the operator).
 * Every operation walks this one list: a reconcile forward (trident-crds written first of all, beside the
 * ONTAP steps; the webhook beside the rest of Trident, as neither depends on the other), a delete backward
 * with each gone before the next, migrate backward with keepObjects, force-delete backward without waiting.
 * `doctor`, the health check and the controller's Secret informers read it too.
 */
export const SHOOT_COMPONENTS: readonly ShootComponent[] = [
  { name: MR_SHOOT_WEBHOOK, part: "webhook" },
  { name: MR_TRIDENT_CRDS, part: "trident", waitHealthy: true },
  { name: MR_TRIDENT_BACKENDS, part: "trident" },
  { name: MR_TRIDENT_SVM_SECRET, part: "trident" },
  { name: MR_TRIDENT_CWNP, part: "trident", onlyWithFirewall: true },
  { name: MR_TRIDENT_INIT, part: "trident" },
];

/** The components one reconcile step writes, in deployment order. */
export function componentsOf(part: ShootComponent["part"]): ShootComponent[] {
  return SHOOT_COMPONENTS.filter((c) => c.part === part);
}

/** Every component's name in the order a teardown removes them: backward (Trident's, the webhook's last). */
export function componentNamesInDestroyOrder(): string[] {
  return SHOOT_COMPONENTS.map((c) => c.name).reverse();
}

/** The components a controller with this configuration keeps in every shoot namespace, in deployment order. */
export function expectedComponentNames(config: { clusterwideNetworkPolicy?: boolean; shootWebhook?: unknown }): string[] {
  return SHOOT_COMPONENTS.filter(
    (c) => (c.part !== "webhook" || Boolean(config.shootWebhook)) && (!c.onlyWithFirewall || Boolean(config.clusterwideNetworkPolicy)),
  ).map((c) => c.name);
}

/** The Secrets of the components, by name (the controller watches each by its name). */
export const COMPONENT_SECRET_NAMES: readonly string[] = SHOOT_COMPONENTS.map((c) => managedResourceSecretName(c.name));
