/** Any ManagedResource as read from the API server; only the fields the check needs. */
export interface ManagedResourceLike {
  metadata?: { generation?: number; deletionTimestamp?: unknown };
  status?: {
    observedGeneration?: number;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
  };
}

export interface ManagedResourceHealth {
  healthy: boolean;
  /** Why not healthy (or "healthy"); built from condition reasons and messages, never from object data. */
  reason: string;
}

/**
 * Gardener's notion of a healthy ManagedResource: the resource manager has seen the current generation, and
 * ResourcesApplied and ResourcesHealthy are True while ResourcesProgressing is False or absent.
 */
export function isManagedResourceHealthy(mr: ManagedResourceLike | undefined | null): ManagedResourceHealth {
  if (!mr) return { healthy: false, reason: "managed resource does not exist" };
  if (mr.metadata?.deletionTimestamp) return { healthy: false, reason: "managed resource is being deleted" };
  const generation = mr.metadata?.generation;
  const observed = mr.status?.observedGeneration;
  if (observed === undefined) return { healthy: false, reason: "resource manager has not observed it yet" };
  if (generation !== undefined && observed !== generation) {
    return { healthy: false, reason: `resource manager observed generation ${observed}, current is ${generation}` };
  }
  const conditions = mr.status?.conditions ?? [];
  const find = (type: string) => conditions.find((c) => c.type === type);
  const describe = (type: string, c: { status?: string; reason?: string; message?: string } | undefined) => {
    if (!c) return `${type} is not reported yet`;
    const detail = [c.reason, c.message].filter((s) => s !== undefined && s !== "").join(": ");
    return `${type} is ${c.status ?? "unknown"}${detail ? ` (${truncate(detail, 300)})` : ""}`;
  };

  const applied = find("ResourcesApplied");
  if (applied?.status !== "True") return { healthy: false, reason: describe("ResourcesApplied", applied) };
  const healthy = find("ResourcesHealthy");
  if (healthy?.status !== "True") return { healthy: false, reason: describe("ResourcesHealthy", healthy) };
  const progressing = find("ResourcesProgressing");
  if (progressing !== undefined && progressing.status !== "False") {
    return { healthy: false, reason: describe("ResourcesProgressing", progressing) };
  }
  return { healthy: true, reason: "healthy" };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
