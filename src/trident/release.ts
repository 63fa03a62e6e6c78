import { DEFAULT_TRIDENT_OPERATOR_IMAGE, MINIMUM_TRIDENT_OPERATOR_VERSION } from "./names.js";
import { TridentRenderError } from "./types.js";
import { compareVersions as compareTriples, parseVersion } from "./version-constraint.js";

/**
 * How the operator's bundle (NetApp/trident `deploy/bundle.yaml`) differs between releases, diffed tag by tag;
 * only these differences are rendered (the ClusterRole grants all of trident.netapp.io, so the CRDs each
 * release adds to its list need no change here):
 * - `25.06`: the operator container has CPU/memory limits (20m/80Mi).
 * - `25.10` (25.10.0, also 26.02.1): limits dropped; VolumeAttachment `delete` (force detach); `get`, update and
 *   delete of the `trident-node-remediation-access` ClusterRole/Binding.
 * - `26.06` (26.06.0, also 26.10 = master): as 25.10 plus `readOnlyRootFilesystem: true`.
 */
export type TridentBundleShape = "25.06" | "25.10" | "26.06";

export interface TridentReleaseLine {
  /** `YY.MM` */
  series: string;
  shape: TridentBundleShape;
  /** The newest Kubernetes minor this line supports (`config.KubernetesVersionMax` of its tag). */
  kubernetesMax: string;
}

/**
 * The release lines this controller knows, oldest first. kubernetesMax from each tag's `config/config.go`
 * (`KubernetesVersionMin` is v1.27 in all four): v25.06.3 v1.33, v25.10.0 v1.34, v26.02.1 v1.35, v26.06.0 v1.36.
 */
export const TRIDENT_RELEASE_LINES: readonly TridentReleaseLine[] = Object.freeze([
  { series: "25.06", shape: "25.06", kubernetesMax: "1.33" },
  { series: "25.10", shape: "25.10", kubernetesMax: "1.34" },
  { series: "26.02", shape: "25.10", kubernetesMax: "1.35" },
  { series: "26.06", shape: "26.06", kubernetesMax: "1.36" },
]);

export interface TridentRelease {
  /** `YY.MM.patch` from the image tag, e.g. `25.06.3`. */
  version: string;
  /** `YY.MM` */
  series: string;
  shape: TridentBundleShape;
  /** Undefined for a line newer than the ones known: its image vector entry's targetVersion says what it supports. */
  kubernetesMax?: string;
}

const TAG = /:(\d{2})\.(\d{2})\.(\d+)(?:[-+][0-9A-Za-z.-]+)?(?:@sha256:[0-9a-f]{64})?$/;

/**
 * The release of an operator image, from its tag. A line newer than the newest known one is rendered as the
 * newest (26.10's bundle differs from 26.06's only inside trident.netapp.io, which the ClusterRole grants whole),
 * so the next release needs a configured image, not a code change.
 */
export function tridentReleaseOf(image: string = DEFAULT_TRIDENT_OPERATOR_IMAGE, field = "tridentOperatorImage"): TridentRelease {
  const match = TAG.exec(image);
  if (!match) {
    throw new TridentRenderError(
      `${field} ${JSON.stringify(image)} has no YY.MM.patch tag; give the release tag (e.g. docker.io/netapp/trident-operator:26.06.0), a digest may follow it`,
    );
  }
  const [, yy, mm, patch] = match as unknown as [string, string, string, string];
  const version = `${yy}.${mm}.${Number(patch)}`;
  if (compareTridentVersions(version, MINIMUM_TRIDENT_OPERATOR_VERSION) < 0) {
    throw new TridentRenderError(
      `${field} ${JSON.stringify(image)} is Trident ${version}, older than ${MINIMUM_TRIDENT_OPERATOR_VERSION} which the Go extension runs: a takeover must never downgrade Trident`,
    );
  }
  const series = `${yy}.${mm}`;
  const known = TRIDENT_RELEASE_LINES.find((line) => line.series === series);
  if (known) return { version, series, shape: known.shape, kubernetesMax: known.kubernetesMax };
  const newest = TRIDENT_RELEASE_LINES[TRIDENT_RELEASE_LINES.length - 1]!;
  if (compareTridentVersions(`${series}.0`, `${newest.series}.0`) > 0) return { version, series, shape: newest.shape };
  throw new TridentRenderError(
    `${field} ${JSON.stringify(image)} is Trident ${version}, a release line this controller does not know (${TRIDENT_RELEASE_LINES.map((l) => l.series).join(", ")}, or newer than ${newest.series}); use a release of one of them`,
  );
}

/** Whether a release supports a Kubernetes version (x.y.z); unknown (newer) lines are trusted to. */
export function supportsKubernetes(release: TridentRelease, kubernetesVersion: string): boolean {
  if (release.kubernetesMax === undefined) return true;
  const v = parseVersion(kubernetesVersion);
  const max = parseVersion(release.kubernetesMax);
  if (!v || !max) return false;
  return v[0] < max[0] || (v[0] === max[0] && v[1] <= max[1]);
}

/** Orders `YY.MM.patch` versions. */
export function compareTridentVersions(a: string, b: string): number {
  return compareTriples(parseVersion(a) ?? [0, 0, 0], parseVersion(b) ?? [0, 0, 0]);
}
