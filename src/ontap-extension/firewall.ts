import type { KubeClient } from "../kube/client.js";
import { Namespaces } from "../kube/resources.js";
import { FIREWALL_NAMESPACE } from "../trident/index.js";

/** A seed's namespaces change rarely; one read a minute answers every shoot's reconcile. */
export const FIREWALL_NAMESPACE_TTL_MS = 60_000;

/**
 * Whether to render `trident-cwnp`. The Go extension's rule: the seed has a namespace `firewall` (metal-stack
 * seeds run the firewall-controller there). The configuration overrides it with `clusterwideNetworkPolicy:
 * true|false`. Without an override the answer is read at most once per TTL for the whole process; a failed
 * read is an error (never a guess that would delete or create the policy).
 */
export function createClusterwideNetworkPolicyRule(
  kube: KubeClient,
  configured: boolean | undefined,
  opts: { ttlMs?: number; now?: () => number } = {},
): () => Promise<boolean> {
  if (configured !== undefined) return async () => configured;
  const ttlMs = opts.ttlMs ?? FIREWALL_NAMESPACE_TTL_MS;
  const now = opts.now ?? Date.now;
  let cached: { value: boolean; at: number } | undefined;
  return async () => {
    if (cached && now() - cached.at < ttlMs) return cached.value;
    const namespace = await kube.get(Namespaces, undefined, FIREWALL_NAMESPACE);
    cached = { value: namespace !== undefined, at: now() };
    return cached.value;
  };
}
