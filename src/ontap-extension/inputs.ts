import { z } from "zod";
import { formatIssues } from "../config/issues.js";
import { boundMessage } from "../extension/status.js";
import { STORAGE_CLASS_NAMES, VOLUME_NAMINGS, type TridentStorageOptions } from "../trident/index.js";
import { checkLifAddress, quoteValue } from "./addresses.js";
import { SVM_USER_ROLES, type SvmUserRole } from "./trident-role.js";

/** The shoot's `providerConfig`, as the Go extension defined it (same apiVersion, same fields). */
export const TridentConfig = z
  .object({
    apiVersion: z.literal("ontap.metal.extensions.gardener.cloud/v1alpha1").optional(),
    kind: z.literal("TridentConfig").optional(),
    svmIpaddresses: z
      .object({
        managementLif: z.string({ error: "is required: the IP address of the SVM's management interface" }),
        dataLifs: z
          .array(z.string(), { error: "is required: a list of IP addresses for the SVM's NVMe/TCP data interfaces" })
          .min(1, "needs at least one data LIF address")
          .max(16, "has more than 16 addresses; an SVM needs a few data LIFs (one per node), not a list this long"),
      })
      .strict(),
    // Beyond the Go extension; each defaults to what it rendered, so a taken-over shoot keeps its objects.
    defaultStorageClass: z
      .enum(STORAGE_CLASS_NAMES, { error: `must be one of ${STORAGE_CLASS_NAMES.join(", ")} (the StorageClass to mark as the shoot's default), or left out for none` })
      .optional(),
    volumeSnapshotClass: z
      .boolean({ error: "must be true or false: whether to deploy the VolumeSnapshotClass netapp-snapshot-class (needs the snapshot.storage.k8s.io CRDs in the shoot)" })
      .optional(),
    volumeNaming: z
      .enum(VOLUME_NAMINGS, { error: `must be ${VOLUME_NAMINGS.join(" or ")}: Trident names ONTAP volumes itself, or after shoot, namespace and PVC` })
      .optional(),
    svmUserRole: z
      .enum(SVM_USER_ROLES, {
        error: `must be ${SVM_USER_ROLES.join(" or ")}: the ONTAP role of the shoot's SVM user (vsadmin, the default, as the Go extension; trident, NetApp's least-privilege REST role for Trident)`,
      })
      .optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const { managementLif, dataLifs } = cfg.svmIpaddresses;
    const management = checkLifAddress(managementLif);
    if (!management.ok) ctx.addIssue({ code: "custom", path: ["svmIpaddresses", "managementLif"], message: management.problem });
    // Compared as addresses (canonical form), not as the strings someone typed.
    const seen = new Map<string, number>();
    dataLifs.forEach((ip, i) => {
      const path = ["svmIpaddresses", "dataLifs", i];
      const data = checkLifAddress(ip);
      if (!data.ok) {
        ctx.addIssue({ code: "custom", path, message: data.problem });
        return;
      }
      const first = seen.get(data.canonical);
      if (first !== undefined) {
        ctx.addIssue({ code: "custom", path, message: `${quoteValue(ip)} duplicates dataLifs[${first}]` });
      } else seen.set(data.canonical, i);
      if (management.ok && data.canonical === management.canonical) {
        ctx.addIssue({ code: "custom", path, message: `${quoteValue(ip)} is also the managementLif; use distinct addresses` });
      }
    });
  });
export type TridentConfig = z.infer<typeof TridentConfig>;

export const PROJECT_ANNOTATION = "cluster.metal-stack.io/project";

/**
 * What metal-stack issues as a project id: a lower-case UUID. Anything looser broke two things: `ab-cd` and `abcd`
 * name one SVM (`pabcd`, dashes dropped) for two projects, and upper case makes invalid Kubernetes names (the
 * shoot's credentials Secret carries the SVM name).
 */
export const METAL_STACK_PROJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Raised for input an operator must fix; never retried until the spec changes. */
export class InputError extends Error {
  override readonly name = "InputError";
  readonly code = "ERR_CONFIGURATION_PROBLEM";
}

export interface ShootInputs {
  /** metal-stack project id (from the Shoot annotation). */
  projectId: string;
  /** Gardener project name (from the namespace `shoot--<project>--<shoot>`). */
  gardenerProject: string;
  shootName: string;
  shootNamespace: string;
  managementLif: string;
  dataLifs: string[];
  /** The providerConfig's choices for the shoot's storage objects (defaults: what the Go extension rendered). */
  storage?: TridentStorageOptions;
  /** The ONTAP role of the shoot's SVM user (providerConfig `svmUserRole`, default vsadmin). */
  svmUserRole?: SvmUserRole;
}

interface ExtensionLike {
  metadata?: { namespace?: string };
  spec?: { providerConfig?: unknown };
}
interface ClusterLike {
  spec?: { shoot?: { metadata?: { annotations?: Record<string, string> } } | unknown };
}

/** Decodes everything a reconcile needs from the Extension and its Cluster, or throws InputError naming the field. */
export function decodeShootInputs(extension: ExtensionLike, cluster: ClusterLike | undefined): ShootInputs {
  const namespace = extension.metadata?.namespace ?? "";
  const match = /^shoot--([a-z0-9-]+?)--([a-z0-9][a-z0-9-]*)$/.exec(namespace);
  if (!match) {
    throw new InputError(`metadata.namespace: ${quoteValue(namespace)} is not a shoot namespace (shoot--<project>--<shoot>)`);
  }
  const [, gardenerProject = "", shootName = ""] = match;

  if (extension.spec?.providerConfig === undefined || extension.spec.providerConfig === null) {
    throw new InputError(
      "spec.providerConfig: is required: set the shoot's ontap extension providerConfig (kind TridentConfig with svmIpaddresses)",
    );
  }
  const parsed = TridentConfig.safeParse(extension.spec.providerConfig);
  if (!parsed.success) {
    throw new InputError(boundMessage(`spec.providerConfig: ${formatIssues(parsed.error.issues)}`));
  }

  if (!cluster) {
    throw new InputError(`Cluster ${namespace}: not found; Gardener creates it before the Extension`);
  }
  const shoot = (cluster.spec as { shoot?: { metadata?: { annotations?: Record<string, string> } } } | undefined)
    ?.shoot;
  const projectId = shoot?.metadata?.annotations?.[PROJECT_ANNOTATION]?.trim();
  if (!projectId) {
    throw new InputError(
      `Cluster ${namespace}: spec.shoot.metadata.annotations["${PROJECT_ANNOTATION}"] is missing; the shoot must belong to a metal-stack project`,
    );
  }
  if (!METAL_STACK_PROJECT_ID.test(projectId)) {
    throw new InputError(
      `Cluster ${namespace}: spec.shoot.metadata.annotations["${PROJECT_ANNOTATION}"]: ${quoteValue(projectId)} is not a metal-stack project id ` +
        `(a lower-case UUID such as 0a1b2c3d-aaaa-4bbb-8ccc-1234567890ab); set the shoot's annotation to the id metal-stack issued`,
    );
  }
  return {
    projectId,
    gardenerProject,
    shootName,
    shootNamespace: namespace,
    managementLif: parsed.data.svmIpaddresses.managementLif,
    dataLifs: parsed.data.svmIpaddresses.dataLifs,
    storage: {
      ...(parsed.data.defaultStorageClass ? { defaultStorageClass: parsed.data.defaultStorageClass } : {}),
      volumeSnapshotClass: parsed.data.volumeSnapshotClass ?? false,
      volumeNaming: parsed.data.volumeNaming ?? "Trident",
    },
    ...(parsed.data.svmUserRole ? { svmUserRole: parsed.data.svmUserRole } : {}),
  };
}
