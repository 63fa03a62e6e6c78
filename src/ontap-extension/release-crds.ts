import { TRIDENT_CRD_NAMES } from "../trident/index.js";

interface ManagedResourceStatusLike {
  status?: { resources?: { kind?: string; name?: string }[] };
}

/**
 * Trident's own CRDs that the live `trident-crds` ManagedResource still manages (an earlier version of this
 * controller put all 17 there). gardener-resource-manager lists what it manages in `status.resources` and
 * deletes whatever disappears from the ManagedResource, and deleting a CRD deletes every Trident object of
 * that kind. So while any is listed, it is rendered once more with `mode: Ignore` (released, left in the
 * shoot); once the resource manager has dropped it from the status, the rendering leaves it out.
 */
export function tridentCrdsToRelease(liveCrdsManagedResource: object | undefined): string[] {
  const managed = (liveCrdsManagedResource as ManagedResourceStatusLike | undefined)?.status?.resources ?? [];
  return TRIDENT_CRD_NAMES.filter((name) => managed.some((r) => r.kind === "CustomResourceDefinition" && r.name === name));
}
