import { findImage, type ImageVector, imageReference, type ResolvedImage } from "./image-vector.js";
import { DEFAULT_TRIDENT_OPERATOR_IMAGE } from "./names.js";
import { compareTridentVersions, supportsKubernetes, type TridentRelease, tridentReleaseOf } from "./release.js";
import { TridentRenderError } from "./types.js";
import { parseVersion } from "./version-constraint.js";

/** Names of the images in `charts/images.yaml` that go into a shoot. */
export const IMAGE_NAMES = {
  operator: "trident-operator",
  trident: "trident",
  autosupport: "trident-autosupport",
  provisioner: "csi-provisioner",
  attacher: "csi-attacher",
  resizer: "csi-resizer",
  snapshotter: "csi-snapshotter",
  nodeDriverRegistrar: "csi-node-driver-registrar",
  livenessProbe: "csi-livenessprobe",
  /** The shoot webhook's init container on Trident's node pods (modprobe nvme-tcp). */
  nvmeTcpInit: "nvme-tcp-init",
} as const;

type TridentImageRole = Exclude<keyof typeof IMAGE_NAMES, "operator" | "nvmeTcpInit">;

/**
 * The environment variables Trident's operator reads its default images from (`operator/config/config.go`, the
 * same in 25.06.3 .. 26.06.0 and master). They travel in the operator's own pod: a new operator comes up with its
 * release's images, and the old one never sees them, which keeps Trident's upgrade order (the operator first, it
 * upgrades the orchestrator; an operator refuses a Trident image of another release, installer.go).
 */
export const OPERATOR_IMAGE_ENV: Readonly<Record<TridentImageRole, string>> = Object.freeze({
  trident: "DEFAULT_TRIDENT_IMAGE",
  autosupport: "DEFAULT_TRIDENT_AUTOSUPPORT_IMAGE",
  provisioner: "TRIDENT_CSI_SIDECAR_PROVISIONER_IMAGE",
  attacher: "TRIDENT_CSI_SIDECAR_ATTACHER_IMAGE",
  resizer: "TRIDENT_CSI_SIDECAR_RESIZER_IMAGE",
  snapshotter: "TRIDENT_CSI_SIDECAR_SNAPSHOTTER_IMAGE",
  nodeDriverRegistrar: "TRIDENT_CSI_SIDECAR_NODE_DRIVER_REGISTRAR_IMAGE",
  livenessProbe: "TRIDENT_CSI_SIDECAR_LIVENESS_PROBE_IMAGE",
});

const ROLES = Object.keys(OPERATOR_IMAGE_ENV) as TridentImageRole[];

const SIG_STORAGE = "registry.k8s.io/sig-storage";
/**
 * What each known release's operator uses when it is told nothing (`config/config.go` of each tag: the sidecar
 * tags, `DefaultAutosupportImage`; the Trident image is the operator's own version). An image that resolves to
 * exactly this is not rendered, so a shoot of the Go extension keeps a byte-identical operator Deployment.
 */
const BUILT_IN_SIDECARS: Readonly<Record<string, Readonly<Record<Exclude<TridentImageRole, "trident" | "autosupport">, string>>>> = {
  "25.06": { provisioner: "v5.2.0", attacher: "v4.8.1", resizer: "v1.13.2", snapshotter: "v8.2.1", nodeDriverRegistrar: "v2.13.0", livenessProbe: "v2.15.0" },
  "25.10": { provisioner: "v5.3.0", attacher: "v4.10.0", resizer: "v1.14.0", snapshotter: "v8.3.0", nodeDriverRegistrar: "v2.15.0", livenessProbe: "v2.15.0" },
  "26.02": { provisioner: "v6.2.0", attacher: "v4.11.0", resizer: "v2.1.0", snapshotter: "v8.5.0", nodeDriverRegistrar: "v2.16.0", livenessProbe: "v2.18.0" },
  "26.06": { provisioner: "v6.3.0", attacher: "v4.11.0", resizer: "v2.1.0", snapshotter: "v8.6.0", nodeDriverRegistrar: "v2.17.0", livenessProbe: "v2.19.0" },
};
const SIDECAR_REPOSITORY: Readonly<Record<string, string>> = {
  provisioner: "csi-provisioner",
  attacher: "csi-attacher",
  resizer: "csi-resizer",
  snapshotter: "csi-snapshotter",
  nodeDriverRegistrar: "csi-node-driver-registrar",
  livenessProbe: "livenessprobe",
};

/** The image a release's operator uses for `role` by itself; undefined for a line this controller does not know. */
export function builtInImage(release: TridentRelease, role: TridentImageRole): string | undefined {
  const sidecars = BUILT_IN_SIDECARS[release.series];
  if (!sidecars) return undefined;
  if (role === "trident") return `docker.io/netapp/trident:${release.version}`;
  if (role === "autosupport") return `docker.io/netapp/trident-autosupport:${release.series}`;
  return `${SIG_STORAGE}/${SIDECAR_REPOSITORY[role]}:${sidecars[role]}`;
}

/** Which Trident a shoot runs, and with which images. */
export interface TridentSelection {
  release: TridentRelease;
  operatorImage: string;
  /** Every image of this release, by image vector name (for status and doctor). */
  images: Record<string, string>;
  /** Operator env for the images that differ from what the operator uses by itself. */
  operatorEnv: { name: string; value: string }[];
  /**
   * - `vector`: the image vector's release for the shoot's Kubernetes version (the lowest that supports it:
   *   an upgrade only when the shoot outgrows what runs);
   * - `kept`: what runs is newer than that, and is kept (never downgraded);
   * - `configured`: `tridentOperatorImage` pins the operator for every shoot.
   */
  reason: "vector" | "kept" | "configured";
}

export interface SelectionInput {
  vector: ImageVector;
  /** The shoot's `spec.kubernetes.version`; undefined when the Cluster does not say (then the default release). */
  kubernetesVersion?: string;
  /** The Trident version this controller last deployed to the shoot (`providerStatus.trident.version`). */
  runningVersion?: string;
  /** `tridentOperatorImage` of the component configuration. */
  configuredOperatorImage?: string;
}

const VECTOR_FIELD = "image vector (charts/images.yaml + imageVectorOverwrite)";

/**
 * Chooses the Trident release of one shoot. The least change an operator expects: the release the image vector
 * gives the shoot's Kubernetes version (the lowest one that supports it, so a shoot moves only when its
 * Kubernetes outgrows its Trident), unless a newer one already runs, which is kept while it supports the shoot.
 * Never older than what runs: that is an error naming the field, not a downgrade.
 */
export function selectTrident(input: SelectionInput): TridentSelection {
  const running = input.runningVersion;
  if (input.configuredOperatorImage !== undefined) {
    const release = tridentReleaseOf(input.configuredOperatorImage);
    refuseDowngrade(release, running, `tridentOperatorImage ${JSON.stringify(input.configuredOperatorImage)}`);
    checkSupport(release, input.kubernetesVersion, "tridentOperatorImage");
    return { release, operatorImage: input.configuredOperatorImage, images: { [IMAGE_NAMES.operator]: input.configuredOperatorImage }, operatorEnv: [], reason: "configured" };
  }
  let anchor: string;
  let reason: TridentSelection["reason"] = "vector";
  if (input.kubernetesVersion === undefined) {
    anchor = anchorOf(input.vector, running ?? tridentReleaseOf(DEFAULT_TRIDENT_OPERATOR_IMAGE).version);
  } else {
    if (!parseVersion(input.kubernetesVersion)) {
      throw new TridentRenderError(`the shoot's spec.kubernetes.version ${JSON.stringify(input.kubernetesVersion)} is not a version (x.y.z)`);
    }
    anchor = input.kubernetesVersion;
    const candidate = operatorAt(input.vector, anchor, input.kubernetesVersion);
    if (running !== undefined && compareTridentVersions(running, candidate.release.version) > 0) {
      anchor = anchorOf(input.vector, running);
      reason = "kept";
    }
  }
  const { release, resolved } = operatorAt(input.vector, anchor, input.kubernetesVersion);
  refuseDowngrade(release, running, `the ${VECTOR_FIELD} entry ${IMAGE_NAMES.operator} ${JSON.stringify(resolved.image)}`);
  refuseLongJump(release, running, `the ${VECTOR_FIELD} entry ${IMAGE_NAMES.operator} ${JSON.stringify(resolved.image)}`);
  checkSupport(release, input.kubernetesVersion, `the ${VECTOR_FIELD} entry ${IMAGE_NAMES.operator} ${JSON.stringify(resolved.image)}`);
  const images: Record<string, string> = { [IMAGE_NAMES.operator]: resolved.image };
  const operatorEnv: { name: string; value: string }[] = [];
  for (const role of ROLES) {
    const name = IMAGE_NAMES[role];
    const found = findImage(input.vector, name, anchor);
    if (!found) {
      throw new TridentRenderError(
        `the ${VECTOR_FIELD} has no image ${name} for Kubernetes ${anchor} (Trident ${release.version}); add one with that targetVersion`,
      );
    }
    if (role === "trident") checkTridentTag(found, release);
    images[name] = found.image;
    if (found.image !== builtInImage(release, role)) operatorEnv.push({ name: OPERATOR_IMAGE_ENV[role], value: found.image });
  }
  return { release, operatorImage: resolved.image, images, operatorEnv, reason };
}

function operatorAt(vector: ImageVector, version: string, shootVersion: string | undefined): { release: TridentRelease; resolved: ResolvedImage } {
  const resolved = findImage(vector, IMAGE_NAMES.operator, version);
  if (!resolved) {
    throw new TridentRenderError(
      `the ${VECTOR_FIELD} has no ${IMAGE_NAMES.operator} for Kubernetes ${shootVersion ?? version}: no Trident release is known to support it; add one to imageVectorOverwrite with a matching targetVersion`,
    );
  }
  const field = `${VECTOR_FIELD} entry ${IMAGE_NAMES.operator}`;
  const release = tridentReleaseOf(resolved.source.ref ?? imageReference({ ...resolved.source, tag: releaseTag(resolved) }), field);
  return { release, resolved };
}

/**
 * A Kubernetes version at which the vector gives the operator of `version`: the images of a kept release are
 * looked up there (its entries share that targetVersion range). Minors 1.0 .. 1.99 are tried, lowest first.
 */
function anchorOf(vector: ImageVector, version: string): string {
  for (let minor = 0; minor < 100; minor++) {
    const at = `1.${minor}.0`;
    const found = findImage(vector, IMAGE_NAMES.operator, at);
    if (!found) continue;
    try {
      if (compareTridentVersions(operatorAt(vector, at, undefined).release.version, version) === 0) return at;
    } catch {
      // An entry of another release that does not parse is reported when it is selected, not here.
    }
  }
  throw new TridentRenderError(
    `Trident ${version} runs in this shoot (status.providerStatus.trident.version) and the ${VECTOR_FIELD} has no ${IMAGE_NAMES.operator} of it: a shoot's Trident is never downgraded; add that release's images to imageVectorOverwrite`,
  );
}

function refuseDowngrade(release: TridentRelease, running: string | undefined, what: string): void {
  if (running !== undefined && compareTridentVersions(release.version, running) < 0) {
    throw new TridentRenderError(
      `${what} is Trident ${release.version}, older than the ${running} this shoot runs (status.providerStatus.trident.version): a shoot's Trident is never downgraded; configure ${running} or newer`,
    );
  }
}

/**
 * Trident upgrades directly only to a release within four releases of the installed one (NetApp's "Upgrade
 * Trident": a four-release window; releases come every four months, YY.02, YY.06, YY.10). Further is refused
 * with the step to take, never attempted.
 */
export const MAX_RELEASES_PER_UPGRADE = 4;

function releaseIndex(version: string): number | undefined {
  const m = /^(\d{2})\.(\d{2})\./.exec(version);
  if (!m) return undefined;
  return Number(m[1]) * 3 + Math.floor((Number(m[2]) - 1) / 4);
}

function refuseLongJump(release: TridentRelease, running: string | undefined, what: string): void {
  if (running === undefined) return;
  const from = releaseIndex(running);
  const to = releaseIndex(release.version);
  if (from === undefined || to === undefined || to - from <= MAX_RELEASES_PER_UPGRADE) return;
  throw new TridentRenderError(
    `${what} is Trident ${release.version}, more than ${MAX_RELEASES_PER_UPGRADE} releases after the ${running} this shoot runs, which Trident does not upgrade in one step; upgrade to a release at most ${MAX_RELEASES_PER_UPGRADE} releases after ${running} first (an imageVectorOverwrite entry for the shoot's Kubernetes version)`,
  );
}

function checkSupport(release: TridentRelease, kubernetesVersion: string | undefined, what: string): void {
  if (kubernetesVersion === undefined || supportsKubernetes(release, kubernetesVersion)) return;
  throw new TridentRenderError(
    `${what} is Trident ${release.version}, which supports Kubernetes up to ${release.kubernetesMax}; the shoot runs ${kubernetesVersion}: give a release that supports it`,
  );
}

/** The operator installs only a Trident image of its own release (installer.go); say so before the shoot does. */
function checkTridentTag(found: ResolvedImage, release: TridentRelease): void {
  const tag = releaseTag(found);
  const m = tag === undefined ? null : /^(\d{2})\.(\d{2})\./.exec(tag);
  if (m && `${m[1]}.${m[2]}` !== release.series) {
    throw new TridentRenderError(
      `the ${VECTOR_FIELD} entry ${IMAGE_NAMES.trident} ${JSON.stringify(found.image)} is not of Trident ${release.series} (the operator's release), which the operator refuses; give a ${release.series}.x tag`,
    );
  }
}

/**
 * The tag that names the release: the tag itself, or `version` when the tag is a bare digest. (Gardener's merge
 * sets `version` to the replaced entry's tag when an overwrite changes the tag, so `version` cannot come first.)
 */
function releaseTag(found: ResolvedImage): string | undefined {
  const { tag, version } = found.source;
  return tag === undefined || tag.startsWith("sha256:") ? (version ?? tag) : tag;
}
