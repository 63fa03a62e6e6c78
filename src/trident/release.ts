import { DEFAULT_TRIDENT_OPERATOR_IMAGE, MINIMUM_TRIDENT_OPERATOR_VERSION } from "./names.js";
import { TridentRenderError } from "./types.js";

/**
 * Which Trident release an operator image is, because the operator's bundle differs between releases:
 * 26.06 needs more RBAC (node remediation, VolumeAttachment delete), runs with a read-only root filesystem
 * and drops the 25.06 resource limits. Facts from NetApp/trident `deploy/bundle.yaml`, v25.06.3 vs v26.06.0.
 */
export type TridentSeries = "25.06" | "26.06";

export interface TridentRelease {
  /** `YY.MM.patch` from the image tag, e.g. `25.06.3`. */
  version: string;
  series: TridentSeries;
}

const TAG = /:(\d{2})\.(\d{2})\.(\d+)(?:[-+][0-9A-Za-z.-]+)?(?:@sha256:[0-9a-f]{64})?$/;

export function tridentReleaseOf(image: string = DEFAULT_TRIDENT_OPERATOR_IMAGE): TridentRelease {
  const match = TAG.exec(image);
  if (!match) {
    throw new TridentRenderError(
      `tridentOperatorImage ${JSON.stringify(image)} has no YY.MM.patch tag; give the release tag (e.g. docker.io/netapp/trident-operator:26.06.0), a digest may follow it`,
    );
  }
  const [, yy, mm, patch] = match as unknown as [string, string, string, string];
  const version = `${yy}.${mm}.${Number(patch)}`;
  if (compareVersions(version, MINIMUM_TRIDENT_OPERATOR_VERSION) < 0) {
    throw new TridentRenderError(
      `tridentOperatorImage ${JSON.stringify(image)} is Trident ${version}, older than ${MINIMUM_TRIDENT_OPERATOR_VERSION} which the Go extension runs: a takeover must never downgrade Trident`,
    );
  }
  const series = `${yy}.${mm}`;
  if (series === "25.06") return { version, series };
  if (series === "26.06") return { version, series };
  throw new TridentRenderError(
    `tridentOperatorImage ${JSON.stringify(image)} is Trident ${version}; this controller renders the operator of 25.06 (>= ${MINIMUM_TRIDENT_OPERATOR_VERSION}) and 26.06 only`,
  );
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
