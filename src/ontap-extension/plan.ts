import type { ShootInputs } from "./inputs.js";

/** Every name a reconcile touches, derived from the inputs alone so any run finds what an earlier run made. */
export interface ShootPlan {
  inputs: ShootInputs;
  svmName: string;
  username: string;
  /** Where this extension keeps the credentials: the shoot's own namespace on the seed. */
  secret: { namespace: string; name: string };
  /** Where the Go extension kept them; adopted once and then removed. */
  legacySecret: { namespace: string; name: string };
  /** The credentials Secret in the shoot's kube-system (Go's name, the same as its seed Secret's). */
  shootSecretName: string;
  lifs: DesiredLif[];
}

export interface DesiredLif {
  name: string;
  /**
   * The name an earlier version of this controller gave the same LIF (`datalif<i>`). Found under it, the LIF
   * is this one: it is kept and used under that name, never created a second time (ONTAP would refuse the
   * address) and not renamed (a rename buys nothing while this controller runs, and a rollback to the Go
   * extension is only a concern for shoots the Go extension created, which carry its names already).
   */
  formerName?: string;
  role: "data" | "management";
  ipAddress: string;
  servicePolicy: string;
}

export const SECRET_NAME = "ontap-svm-credentials";
export const DATA_SERVICE_POLICY = "default-data-nvme-tcp";
export const MANAGEMENT_SERVICE_POLICY = "default-management";
export const MANAGEMENT_LIF_NAME = "managementlif";

/** `p` + project id without dashes: the Go extension's SVM name, one SVM per project. */
export function svmNameFor(projectId: string): string {
  return `p${projectId.replace(/-/g, "")}`.slice(0, 47);
}

/** The shoot name cut to 25 characters with a leading `-` replaced, as the Go extension names its users. */
export function usernameFor(shootName: string): string {
  return shootName.slice(0, 25).replace(/^-/, "_");
}

/** `datalif+<i>`, with a literal plus, as the Go extension names data LIFs (ONTAP accepts `+` in names). */
export function dataLifName(index: number): string {
  return `datalif+${index}`;
}

/** The data LIF name this project used before it matched the Go extension's. */
export function formerDataLifName(index: number): string {
  return `datalif${index}`;
}

export function planShoot(inputs: ShootInputs): ShootPlan {
  const svmName = svmNameFor(inputs.projectId);
  const goSecretName = `${svmName}-${inputs.gardenerProject}--${inputs.shootName}-credentials`;
  return {
    inputs,
    svmName,
    username: usernameFor(inputs.shootName),
    secret: { namespace: inputs.shootNamespace, name: SECRET_NAME },
    legacySecret: { namespace: "kube-system", name: goSecretName },
    shootSecretName: goSecretName,
    lifs: [
      ...inputs.dataLifs.map((ip, i) => ({
        name: dataLifName(i),
        formerName: formerDataLifName(i),
        role: "data" as const,
        ipAddress: ip,
        servicePolicy: DATA_SERVICE_POLICY,
      })),
      {
        name: MANAGEMENT_LIF_NAME,
        role: "management" as const,
        ipAddress: inputs.managementLif,
        servicePolicy: MANAGEMENT_SERVICE_POLICY,
      },
    ],
  };
}
