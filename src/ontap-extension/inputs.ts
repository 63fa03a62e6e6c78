import { isIP } from "node:net";
import { z } from "zod";
import { formatIssues } from "../config/issues.js";

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
          .min(1, "needs at least one data LIF address"),
      })
      .strict(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const { managementLif, dataLifs } = cfg.svmIpaddresses;
    if (!isIP(managementLif)) {
      ctx.addIssue({
        code: "custom",
        path: ["svmIpaddresses", "managementLif"],
        message: `"${managementLif}" is not a valid IP address`,
      });
    }
    const seen = new Map<string, number>();
    dataLifs.forEach((ip, i) => {
      const path = ["svmIpaddresses", "dataLifs", i];
      if (!isIP(ip)) ctx.addIssue({ code: "custom", path, message: `"${ip}" is not a valid IP address` });
      const first = seen.get(ip);
      if (first !== undefined) {
        ctx.addIssue({ code: "custom", path, message: `"${ip}" duplicates dataLifs[${first}]` });
      } else seen.set(ip, i);
      if (ip === managementLif) {
        ctx.addIssue({ code: "custom", path, message: `"${ip}" is also the managementLif; use distinct addresses` });
      }
    });
  });
export type TridentConfig = z.infer<typeof TridentConfig>;

export const PROJECT_ANNOTATION = "cluster.metal-stack.io/project";

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
    throw new InputError(`metadata.namespace: "${namespace}" is not a shoot namespace (shoot--<project>--<shoot>)`);
  }
  const [, gardenerProject = "", shootName = ""] = match;

  if (extension.spec?.providerConfig === undefined || extension.spec.providerConfig === null) {
    throw new InputError(
      "spec.providerConfig: is required: set the shoot's ontap extension providerConfig (kind TridentConfig with svmIpaddresses)",
    );
  }
  const parsed = TridentConfig.safeParse(extension.spec.providerConfig);
  if (!parsed.success) {
    throw new InputError(`spec.providerConfig: ${formatIssues(parsed.error.issues)}`);
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
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/.test(projectId)) {
    throw new InputError(
      `Cluster ${namespace}: spec.shoot.metadata.annotations["${PROJECT_ANNOTATION}"]: "${projectId}" is not a valid project id`,
    );
  }
  return {
    projectId,
    gardenerProject,
    shootName,
    shootNamespace: namespace,
    managementLif: parsed.data.svmIpaddresses.managementLif,
    dataLifs: parsed.data.svmIpaddresses.dataLifs,
  };
}
