import { createHash } from "node:crypto";
import { decodeShootInputs, type ShootInputs } from "./inputs.js";

/** Every name a reconcile touches, derived from the inputs alone so any run finds what an earlier run made. */
export interface ShootPlan {
  inputs: ShootInputs;
  svmName: string;
  /** This shoot's own SVM user: unique per shoot namespace (see `usernameFor`). */
  username: string;
  /**
   * The name the Go extension (and this controller before it named users per shoot) gave the user: the shoot
   * name alone, shared by every shoot of that name in the metal-stack project. Used only while the account
   * provably belongs to this shoot (its comment names `owner`); undefined where ONTAP keeps the name for itself.
   */
  legacyUsername?: string;
  /** Who owns the user, recorded in the account's comment: the shoot namespace. */
  owner: string;
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

/** ONTAP's limit on account names (`security login create -user-or-group-name`). */
export const MAX_USERNAME_LENGTH = 40;
const HASH_LENGTH = 8;

/**
 * This shoot's SVM user: `<gardener project>--<shoot name>` from the shoot namespace `shoot--<project>--<shoot>`.
 * Shoot names are unique only within a Gardener project, and several Gardener projects may carry one metal-stack
 * project (one SVM), so the shoot name alone would give two shoots one user. Gardener forbids `--` in shoot and
 * project names, so this name never equals a shoot name (a user the Go extension made). Beyond ONTAP's 40
 * characters it is cut and ends in a hash of the whole namespace, so it stays unique and deterministic.
 */
export function usernameFor(shootNamespace: string): string {
  const name = shootNamespace.replace(/^shoot--/, "");
  if (name.length <= MAX_USERNAME_LENGTH) return name;
  const hash = createHash("sha256").update(shootNamespace).digest("hex").slice(0, HASH_LENGTH);
  return `${name.slice(0, MAX_USERNAME_LENGTH - HASH_LENGTH - 1)}-${hash}`;
}

/** The SVM's built-in administrator (ONTAP creates it, locked, with every SVM). */
export const BUILTIN_SVM_ACCOUNTS: ReadonlySet<string> = new Set(["vsadmin"]);
/** Names ONTAP keeps for itself: an account of that name cannot be created. */
export const RESERVED_ACCOUNT_NAMES: ReadonlySet<string> = new Set(["admin", "root", "diag", "daemon", "bin", "sys", "adm", "nobody", "ftp", "autosupport"]);

/**
 * The shoot name cut to 25 characters with a leading `-` replaced, as the Go extension names its users; none for a
 * shoot named like a built-in or reserved account (`vsadmin`, `admin`): such an account is never a shoot's.
 */
export function legacyUsernameFor(shootName: string): string | undefined {
  const name = shootName.slice(0, 25).replace(/^-/, "_");
  const lower = name.toLowerCase();
  return BUILTIN_SVM_ACCOUNTS.has(lower) || RESERVED_ACCOUNT_NAMES.has(lower) ? undefined : name;
}

const OWNER_COMMENT_PREFIX = "gardener-extension-ontap owner=";

/** The account comment that records which shoot owns an SVM user. */
export function ownerComment(owner: string): string {
  return `${OWNER_COMMENT_PREFIX}${owner}`;
}

/** The owner an account's comment records, or undefined when it records none (a Go-made account has no comment). */
export function ownerOfComment(comment: string | undefined): string | undefined {
  if (!comment?.startsWith(OWNER_COMMENT_PREFIX)) return undefined;
  return comment.slice(OWNER_COMMENT_PREFIX.length).trim() || undefined;
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
    username: usernameFor(inputs.shootNamespace),
    ...(legacyUsernameFor(inputs.shootName) !== undefined ? { legacyUsername: legacyUsernameFor(inputs.shootName) } : {}),
    owner: inputs.shootNamespace,
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

/** What a teardown needs: where the SVM is, which users are this shoot's, and its seed Secrets. */
export type TeardownPlan = Pick<ShootPlan, "svmName" | "username" | "owner" | "secret" | "legacySecret"> & {
  /** The cluster status recorded as the SVM's home: its answer suffices while another cluster is silent. */
  recordedCluster?: string;
};

const SHOOT_NAMESPACE = /^shoot--[a-z0-9-]+?--[a-z0-9][a-z0-9-]*$/;

/**
 * The plan of a delete, from what the status recorded (`providerStatus.svmName`, written before anything was
 * made on ONTAP) and, only where nothing was recorded, from the inputs. Inputs that went bad after creation (a
 * broken providerConfig, a lost or changed project annotation) must not skip ONTAP: the user, and a password the
 * shoot owner could read, would stay valid after the shoot is gone. The user and Secret names need only the shoot
 * namespace. Undefined when neither says which SVM: nothing of this shoot can be on ONTAP then.
 */
export function planTeardown(
  extension: { metadata?: { namespace?: string }; spec?: { providerConfig?: unknown }; status?: { providerStatus?: unknown } | null },
  cluster: Parameters<typeof decodeShootInputs>[1],
): TeardownPlan | undefined {
  const namespace = extension.metadata?.namespace ?? "";
  if (!SHOOT_NAMESPACE.test(namespace)) return undefined;
  const status = extension.status?.providerStatus as { svmName?: unknown; cluster?: unknown } | undefined;
  const recorded = status?.svmName;
  let svmName = typeof recorded === "string" && recorded !== "" ? recorded : undefined;
  // The home counts only for the SVM it was recorded with.
  const recordedCluster = svmName && typeof status?.cluster === "string" && status.cluster !== "" ? status.cluster : undefined;
  if (!svmName) {
    try {
      svmName = planShoot(decodeShootInputs(extension, cluster)).svmName;
    } catch {
      return undefined;
    }
  }
  const goSecretName = `${svmName}-${namespace.slice("shoot--".length)}-credentials`;
  return {
    svmName,
    username: usernameFor(namespace),
    owner: namespace,
    secret: { namespace, name: SECRET_NAME },
    legacySecret: { namespace: "kube-system", name: goSecretName },
    ...(recordedCluster ? { recordedCluster } : {}),
  };
}
