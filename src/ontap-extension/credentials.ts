import { ExtensionError } from "../extension/errors.js";
import type { KubeClient } from "../kube/client.js";
import { Secrets } from "../kube/resources.js";
import type { Account, OntapClient, Svm } from "../ontap/index.js";
import { isOntapError } from "../ontap/index.js";
import { type LoginAnswer, passwordProof } from "../observation/observed.js";
import type { SecretObject } from "./secret-object.js";
import { deleteGoSecret, readGoSecret, takeoverForbiddenMessage } from "./go-secrets.js";
import { generatePassword, type PasswordRules } from "./password.js";
import { ownerComment, ownerOfComment, type ShootPlan } from "./plan.js";
import { parseSuperseded, pruneSuperseded, SUPERSEDED_KEY, type SupersededPassword, serializeSuperseded, supersede } from "./superseded-passwords.js";
import type { Verdict, VerifiedAt, VerifyCredentials } from "./verify-credentials.js";

/**
 * The secret-first credentials protocol. A password reaches ONTAP only after it is stored in the seed
 * Secret (as `pendingPassword`), and every reconcile proves the stored password by authenticating as the
 * user, so a lost Secret write, a lost ONTAP answer or a crash between any two calls is repaired next time.
 * The proof is made where Trident connects (the SVM management LIF, see verify-credentials.ts): only a 401 there
 * makes a password "wrong"; a LIF that does not answer makes it "unknown", and an unknown password is kept and
 * used, never rotated. A pending password given up on stays in the Secret for a while (superseded-passwords.ts):
 * its ONTAP write may still land after a timeout or a change of leader.
 */

export type { SecretObject } from "./secret-object.js";

export interface StoredCredentials {
  username?: string;
  password?: string;
  pendingPassword?: string;
  /** Pending passwords given up on whose write may still land on ONTAP. */
  superseded?: SupersededPassword[];
}

export type CredentialsOutcome =
  | "verified"
  | "promoted-pending"
  /** A superseded pending password authenticates: its write landed late (after a timeout or a leader change). */
  | "promoted-superseded"
  | "cleared-stale-pending"
  | "adopted-legacy"
  | "rotated"
  /**
   * The pending password could not be checked (the LIF did not answer): it was set again through the cluster
   * interface, where the controller is administrator, and promoted. A rotation never waits on the LIF's answer.
   */
  | "reapplied-pending"
  /** The check could not be made (the LIF did not answer): the stored password is kept and used as is. */
  | "unverified";

export interface CredentialsResult {
  username: string;
  password: string;
  outcome: CredentialsOutcome;
  /** Where the password was proven, or why it could not be. */
  verification: { verified: true; at: VerifiedAt } | { verified: false; reason: string };
  /** The Go extension's Secret could not be read (403, the chart's takeover grant is off): why no takeover was tried. */
  takeoverSkipped?: string;
}

export interface CredentialsDeps {
  kube: KubeClient;
  /** The client of the cluster that holds the SVM. */
  ontap: OntapClient;
  /** Counts every write of the seed Secret, ok or failed (a failed write must be visible: the Go extension created the SVM, failed to write this Secret, and later reconciles assumed it was there). */
  onSecretWrite?: (outcome: "ok" | "failed") => void;
  generate?: () => string;
  /** The role's password rules the generator follows (component configuration `passwordRules`). */
  passwordRules?: PasswordRules;
  /** Authenticates as the user where Trident will (default: on the cluster interface through `ontap`). */
  verify?: VerifyCredentials;
  /** The clock of the superseded passwords' retention (milliseconds, default Date.now). */
  now?: () => number;
  /** The role a new account is created with (default vsadmin); its existence is svm-user-role.ts's job. */
  accountRole?: string;
}

export const CREDENTIALS_LABELS = {
  "app.kubernetes.io/managed-by": "gardener-extension-ontap",
  "ontap.extensions.gardener.cloud/purpose": "svm-credentials",
};

export function decodeCredentials(secret: SecretObject | undefined): StoredCredentials {
  const data = secret?.data ?? {};
  const read = (key: string) => {
    const raw = data[key];
    if (raw === undefined) return undefined;
    const value = Buffer.from(raw, "base64").toString("utf8");
    return value === "" ? undefined : value;
  };
  const superseded = parseSuperseded(read(SUPERSEDED_KEY));
  return {
    username: read("username"),
    password: read("password"),
    pendingPassword: read("pendingPassword"),
    ...(superseded.length > 0 ? { superseded } : {}),
  };
}

function encode(creds: StoredCredentials): Record<string, string> {
  const { superseded, ...plain } = creds;
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...plain, [SUPERSEDED_KEY]: serializeSuperseded(superseded ?? []) })) {
    if (value !== undefined) data[key] = Buffer.from(value, "utf8").toString("base64");
  }
  return data;
}

/** The seed Secret, and, only when it is absent, the Go extension's one (a takeover adopts it). */
export interface SeedSecrets {
  secret?: SecretObject;
  legacy?: SecretObject;
  /** The Go extension's Secret was not readable (403): no takeover to do (go-secrets.ts). */
  legacyForbidden?: true;
}

/** Reads what `ensureCredentials` starts from; the caller may start it early (it reads, it changes nothing). */
export async function readSeedSecrets(kube: KubeClient, plan: ShootPlan): Promise<SeedSecrets> {
  const secret = await kube.get<SecretObject>(Secrets, plan.secret.namespace, plan.secret.name);
  if (secret) return { secret };
  const legacy = await readGoSecret(kube, plan.legacySecret);
  return legacy.kind === "forbidden" ? { legacyForbidden: true } : { legacy: legacy.secret };
}

/**
 * The shoot user's credentials as a reconcile may build on them before a new password's proof ends: the password
 * is on ONTAP and stored in the seed Secret (a new one as `pendingPassword`, written before ONTAP saw it), so the
 * shoot may be handed it now; `proven` is the outcome once its proof at the LIF and its promotion in the Secret
 * ended (it rejects as `ensureCredentials` would, e.g. when the new password does not authenticate). Any
 * outcome but a rotation is proven already.
 */
export interface CredentialsInHand {
  username: string;
  password: string;
  proven: Promise<CredentialsResult>;
}

/** The credentials, proven (or known unverifiable) and stored: `establishCredentials` awaited to the end. */
export async function ensureCredentials(
  deps: CredentialsDeps,
  plan: ShootPlan,
  svm: Svm,
  seedSecrets?: Promise<SeedSecrets>,
): Promise<CredentialsResult> {
  return (await establishCredentials(deps, plan, svm, seedSecrets)).proven;
}

/** Observe the stored credentials, decide, act; answers as soon as the password is on ONTAP and stored (CredentialsInHand). */
export async function establishCredentials(
  deps: CredentialsDeps,
  plan: ShootPlan,
  svm: Svm,
  seedSecrets?: Promise<SeedSecrets>,
): Promise<CredentialsInHand> {
  const read = await (seedSecrets ?? readSeedSecrets(deps.kube, plan));
  const result = await credentialsFrom(deps, plan, svm, read);
  if (!read.legacyForbidden) return result;
  const takeoverSkipped = takeoverForbiddenMessage(plan.legacySecret);
  return inHand(result.username, result.password, result.proven.then((r) => ({ ...r, takeoverSkipped })));
}

async function credentialsFrom(deps: CredentialsDeps, plan: ShootPlan, svm: Svm, read: SeedSecrets): Promise<CredentialsInHand> {
  const { ontap } = deps;
  const check = deps.verify ?? clusterVerifier(ontap);
  let secret = read.secret;
  const stored = decodeCredentials(secret);
  const now = deps.now ?? Date.now;

  // Which user: the shoot's own, or a legacy-named one (the shoot name alone) that provably belongs to it.
  let username = plan.username;
  let staleLegacySecret = false;
  if (secret && plan.legacyUsername !== undefined && stored.username === plan.legacyUsername) {
    const claim = await claimLegacyUser(deps, plan, svm, check, stored.password);
    if (claim.kind === "unverified" && stored.password) {
      return settled({ username: plan.legacyUsername, password: stored.password, outcome: "unverified", verification: { verified: false, reason: claim.reason } });
    }
    if (claim.kind === "owned") username = plan.legacyUsername;
  } else if (!secret && read.legacy) {
    const adoption = await adoptLegacySecret(deps, plan, svm, check, read.legacy);
    if (adoption.adopted) return settled(adoption.adopted);
    staleLegacySecret = true;
    if (adoption.owned && plan.legacyUsername !== undefined) username = plan.legacyUsername;
  }
  // Another user's leftovers are no candidates for this one.
  const mine = stored.username === username;
  const superseded = mine ? pruneSuperseded(stored.superseded ?? [], now()) : [];

  // Every wrong login counts towards ONTAP's lockout (`max-failed-login-attempts` of the role), and a locked account
  // answers 401 to the right password too. So after the first wrong answer the account is read as administrator
  // (absent: no stored password can work; locked: nothing is tried and nothing set), and at most
  // MAX_WRONG_LOGINS wrong answers are risked per reconcile before a rotation, which needs no login.
  let account: Account | undefined | "unread" = "unread";
  let wrongLogins = 0;
  const readAccount = async () => {
    if (account === "unread") account = await ontap.getAccount(svm.uuid, username);
    return account;
  };
  const mayTryAnother = async () => {
    if (wrongLogins === 0) return true;
    const found = await readAccount();
    if (found?.locked) throw accountLocked(username, svm.name);
    return found !== undefined && wrongLogins < MAX_WRONG_LOGINS;
  };
  const login = async (password: string) => {
    const verdict = await check(username, password);
    if (verdict.result === "wrong") wrongLogins++;
    return verdict;
  };

  // Observe which stored password authenticates, then act on that (never the other way round).
  const answers = await observeStoredPasswords(mine ? stored : {}, login, mayTryAnother);
  const decision = decideCredentials(answers);
  switch (decision.act) {
    case "use-current":
      return settled({ username, password: stored.password ?? "", outcome: "verified", verification: verifiedBy(answers.current) });
    case "clear-stale-pending": {
      // A rotation wrote its pending password but has not reached ONTAP: the stored one is still live. Its
      // write may yet land, so the pending password is kept among the superseded.
      const password = stored.password ?? "";
      const kept = supersede(superseded, [stored.pendingPassword], now(), [password]);
      await writeSecret(deps, plan, secret, { username, password, superseded: kept }, "clear a stale pendingPassword");
      return settled({ username, password, outcome: "cleared-stale-pending", verification: verifiedBy(answers.current) });
    }
    case "promote-pending": {
      const password = stored.pendingPassword ?? "";
      const kept = supersede(superseded, [], now(), [password]);
      await writeSecret(deps, plan, secret, { username, password, superseded: kept }, "promote the live pendingPassword");
      return settled({ username, password, outcome: "promoted-pending", verification: verifiedBy(answers.pending) });
    }
    // Unknown is never wrong: with a rotation under way ONTAP holds either password and nobody can tell which,
    // so the rotation is finished; without one, what is stored is kept and Trident uses it.
    case "reapply-pending":
      return settled(await reapplyPending(deps, plan, svm, secret, username, stored.pendingPassword ?? "", superseded, decision.reason));
    case "keep-unverified":
      return settled({ username, password: stored.password ?? "", outcome: "unverified", verification: { verified: false, reason: decision.reason } });
    case "find-or-rotate":
      break;
  }
  // A write given up on that landed after all (newest first: the last one to land wins on ONTAP).
  for (const candidate of superseded) {
    if (!(await mayTryAnother())) break;
    const verdict = await login(candidate.password);
    if (verdict.result === "ok") {
      const kept = supersede(superseded, [stored.pendingPassword], now(), [candidate.password]);
      await writeSecret(deps, plan, secret, { username, password: candidate.password, superseded: kept }, "promote a superseded password that ONTAP holds");
      return settled({ username, password: candidate.password, outcome: "promoted-superseded", verification: { verified: true, at: verdict.at } });
    }
    // The stored passwords are proven wrong, so a rotation is due anyway; an unchecked fallback does not stop it.
    if (verdict.result === "unknown") break;
  }

  // No stored password works (or there is none): rotate, storing the new password first. A pending password
  // given up on here joins the superseded: its write may still be on the wire.
  const password = deps.generate ? deps.generate() : generatePassword(deps.passwordRules, username);
  const previous = mine ? stored.password : undefined;
  const keptWhileRotating = supersede(superseded, [mine ? stored.pendingPassword : undefined], now(), [password, previous]);
  // The account read changes nothing, so it runs alongside the Secret write; the password still reaches ONTAP
  // only after the write succeeded.
  const [written, existing] = await Promise.all([
    writeSecret(
      deps,
      plan,
      secret,
      { username, password: previous, pendingPassword: password, superseded: keptWhileRotating },
      "store a new password before setting it on ONTAP (ONTAP is unchanged)",
    ),
    readAccount(),
  ]);
  secret = written;
  // Never rotate a locked account: the new password would not log in either, and the next reconcile would rotate
  // again. The pending password just stored never reaches ONTAP; once unlocked, the stored one is proven again.
  if (existing?.locked) throw accountLocked(username, svm.name);
  try {
    if (existing) {
      await ontap.changePassword({ svmName: svm.name, name: username, password });
    } else {
      await ontap.createAccount({ ownerUuid: svm.uuid, name: username, password, role: deps.accountRole ?? "vsadmin", comment: ownerComment(plan.owner) });
    }
  } catch (err) {
    throw passwordRefused(err, username, svm.name) ?? err;
  }
  // From here the new password is on ONTAP and stored (as pendingPassword: secret first), so the caller may
  // hand it on while it is proven and promoted.
  return inHand(username, password, proveAndPromote(deps, plan, svm, secret, { username, password, superseded: keptWhileRotating }, staleLegacySecret));
}

/**
 * A new password that reached ONTAP: its promotion in the Secret and its proof at the LIF, at once. Should the
 * write fail, the next reconcile finds it as pendingPassword and promotes it; should the proof fail, the next
 * reconcile finds the stored password wrong and rotates.
 */
async function proveAndPromote(
  deps: CredentialsDeps,
  plan: ShootPlan,
  svm: Svm,
  secret: SecretObject | undefined,
  promoted: StoredCredentials & { username: string; password: string },
  staleLegacySecret: boolean,
): Promise<CredentialsResult> {
  const { username, password } = promoted;
  const check = deps.verify ?? clusterVerifier(deps.ontap);
  const [, after] = await Promise.all([
    writeSecret(deps, plan, secret, promoted, "promote the new password (already set on ONTAP and kept as pendingPassword)"),
    check(username, password),
  ]);
  if (after.result === "wrong") {
    throw new ExtensionError(
      `the new password of ONTAP user ${username} on SVM ${svm.name} was set but does not authenticate at the ${after.at}; will retry`,
      ["ERR_RETRYABLE_INFRA_DEPENDENCIES"],
      { retriable: true },
    );
  }
  // The Go extension's Secret held a password that no longer works: a stale copy of credentials helps
  // nobody (a rollback to the Go extension would hand it to Trident), so it goes once the new one is live.
  if (staleLegacySecret) await deleteGoSecret(deps.kube, plan.legacySecret);
  const verification = after.result === "ok" ? { verified: true as const, at: after.at } : { verified: false as const, reason: after.reason };
  return { username, password, outcome: "rotated", verification };
}

/** Credentials whose proof is still under way; `proven` is watched from here, so a caller that stops early leaves no unhandled rejection. */
function inHand(username: string, password: string, proven: Promise<CredentialsResult>): CredentialsInHand {
  proven.catch(() => undefined);
  return { username, password, proven };
}

/** Credentials already proven (or known unverifiable) and stored: nothing is left to wait for. */
function settled(result: CredentialsResult): CredentialsInHand {
  return { username: result.username, password: result.password, proven: Promise.resolve(result) };
}

/** What the logins with the stored passwords answered: the observation the credentials step acts on. */
export interface StoredPasswordAnswers {
  /** The login with `password`; absent when none is stored. */
  current?: Verdict;
  /** The login with `pendingPassword`; absent when none is stored or it was not tried (see observeStoredPasswords). */
  pending?: Verdict;
  pendingStored: boolean;
}

/**
 * Observes which stored password authenticates: `password` first, then `pendingPassword` only when the first was
 * wrong (an unanswered one says nothing about the other) and another wrong login may be risked (`mayTryAnother`:
 * the account exists, is not locked, and the lockout budget allows it).
 */
async function observeStoredPasswords(
  stored: StoredCredentials,
  login: (password: string) => Promise<Verdict>,
  mayTryAnother: () => Promise<boolean>,
): Promise<StoredPasswordAnswers> {
  const answers: StoredPasswordAnswers = { pendingStored: Boolean(stored.pendingPassword) };
  if (stored.password) {
    answers.current = await login(stored.password);
    if (answers.current.result !== "wrong") return answers;
  }
  if (stored.pendingPassword && (await mayTryAnother())) answers.pending = await login(stored.pendingPassword);
  return answers;
}

/** What the credentials step does about what it observed of the stored passwords. */
export type CredentialsDecision =
  /** `password` authenticates and nothing is pending: nothing to do. */
  | { act: "use-current" }
  /** `password` authenticates while a pending one is stored: that rotation never reached ONTAP. */
  | { act: "clear-stale-pending" }
  /** `pendingPassword` authenticates: the rotation reached ONTAP, its promotion was lost. */
  | { act: "promote-pending" }
  /** A rotation is under way and the LIF cannot say which password ONTAP holds: set the pending one again. */
  | { act: "reapply-pending"; reason: string }
  /** The LIF does not answer and nothing is pending: keep what is stored, unverified. */
  | { act: "keep-unverified"; reason: string }
  /** No stored password authenticates (or none is stored): a superseded one that landed late, else a new one. */
  | { act: "find-or-rotate" };

/** The observe -> act decision of the credentials step, in the vocabulary doctor and health use (PasswordProof). */
export function decideCredentials(answers: StoredPasswordAnswers): CredentialsDecision {
  const current = answers.current && loginAnswer(answers.current);
  const pending = answers.pending && loginAnswer(answers.pending);
  const proof = passwordProof(current, pending);
  switch (proof.authenticates) {
    case "current":
      return answers.pendingStored ? { act: "clear-stale-pending" } : { act: "use-current" };
    case "pending":
      return { act: "promote-pending" };
    case "none":
      return { act: "find-or-rotate" };
    case "unknown":
      if (current?.result === "no-answer") {
        return answers.pendingStored ? { act: "reapply-pending", reason: current.error } : { act: "keep-unverified", reason: current.error };
      }
      if (pending?.result === "no-answer") return { act: "reapply-pending", reason: pending.error };
      // Nothing stored, or nothing that could be tried: nothing to keep.
      return { act: "find-or-rotate" };
  }
}

/** A login's verdict in the observation vocabulary (what doctor and health report). */
export function loginAnswer(verdict: Verdict): LoginAnswer {
  if (verdict.result === "ok") return { result: "ok" };
  if (verdict.result === "wrong") return { result: "rejected" };
  return { result: "no-answer", error: verdict.reason };
}

/** Where a login that authenticated was made (the decision only uses a login that did). */
function verifiedBy(verdict: Verdict | undefined): { verified: true; at: VerifiedAt } {
  if (verdict?.result !== "ok") throw new Error("credentials: a password was used as proven without a login that authenticated");
  return { verified: true, at: verdict.at };
}

/**
 * A rotation whose promotion was lost while the management LIF does not answer: the Secret holds the pending
 * password, ONTAP holds it or the one before, and the LIF cannot say which. The controller is administrator on
 * the cluster interface and needs no answer from the LIF: it sets the stored pending password again there
 * (secret first still holds: it was stored before ONTAP ever saw it) and promotes it. The proof at the LIF
 * stays open, so the result is unverified, and the next reconcile that reaches the LIF proves it.
 */
async function reapplyPending(
  deps: CredentialsDeps,
  plan: ShootPlan,
  svm: Svm,
  secret: SecretObject | undefined,
  username: string,
  pending: string,
  superseded: SupersededPassword[],
  reason: string,
): Promise<CredentialsResult> {
  const account = await deps.ontap.getAccount(svm.uuid, username);
  if (account?.locked) throw accountLocked(username, svm.name);
  try {
    if (account) await deps.ontap.changePassword({ svmName: svm.name, name: username, password: pending });
    else await deps.ontap.createAccount({ ownerUuid: svm.uuid, name: username, password: pending, role: deps.accountRole ?? "vsadmin", comment: ownerComment(plan.owner) });
  } catch (err) {
    throw passwordRefused(err, username, svm.name) ?? err;
  }
  const kept = superseded.filter((e) => e.password !== pending);
  await writeSecret(deps, plan, secret, { username, password: pending, superseded: kept }, "promote the pending password set again through the cluster interface");
  return { username, password: pending, outcome: "reapplied-pending", verification: { verified: false, reason } };
}

/** Whether this shoot may use the legacy-named user (the shoot name alone, which shoots of one name share). */
type LegacyClaim =
  /** Its comment names this shoot (recorded now if a password this shoot holds just proved it). */
  | { kind: "owned"; proven?: Verdict }
  /** No owner recorded and the proof could not be made (no answer): kept as is, neither claimed nor rotated. */
  | { kind: "unverified"; reason: string }
  /** Absent, another shoot's, locked, or not proven: this shoot uses its own user instead. */
  | { kind: "not-ours" };

/**
 * A legacy-named account is this shoot's when its comment says so. Without a comment (the Go extension and this
 * controller's earlier versions recorded none) it is this shoot's only when a password this shoot holds (its
 * seed Secret, or the Go extension's Secret named for this shoot namespace) authenticates as it: then the owner
 * is recorded in the comment, so a sibling shoot of the same name finds it taken and never rotates it. Any other
 * shoot of that name moves to its own user; nothing is ever written to an account that is not provably ours.
 */
async function claimLegacyUser(
  deps: CredentialsDeps,
  plan: ShootPlan,
  svm: Svm,
  check: VerifyCredentials,
  password: string | undefined,
): Promise<LegacyClaim> {
  const name = plan.legacyUsername;
  if (name === undefined) return { kind: "not-ours" };
  const account = await deps.ontap.getAccount(svm.uuid, name);
  if (!account) return { kind: "not-ours" };
  const owner = ownerOfComment(account.comment);
  if (owner === plan.owner) return { kind: "owned" };
  if (owner !== undefined || !password || account.locked) return { kind: "not-ours" };
  const verdict = await check(name, password);
  if (verdict.result === "unknown") return { kind: "unverified", reason: verdict.reason };
  if (verdict.result === "wrong") return { kind: "not-ours" };
  await deps.ontap.setAccountComment(svm.uuid, name, ownerComment(plan.owner));
  return { kind: "owned", proven: verdict };
}

/** The pre-LIF check: authenticate on the cluster interface. An error there is to be retried, not a verdict. */
function clusterVerifier(ontap: OntapClient): VerifyCredentials {
  return async (name, password) => {
    const answer = await ontap.authenticateAs({ name, password });
    if (answer.result === "ok") return { result: "ok", at: "cluster management interface" };
    if (answer.result === "wrong-password") return { result: "wrong", at: "cluster management interface" };
    throw cannotVerify(name, answer.error.message, answer.error);
  };
}

/**
 * ONTAP refusing a generated password for one of its rules is a configuration problem, not a transient one:
 * another random password from the same rules would be refused again, so it stops (no rotation loop) and names
 * the rule ONTAP gave and the fix.
 */
function passwordRefused(err: unknown, username: string, svmName: string): ExtensionError | undefined {
  if (!isOntapError(err) || err.kind !== "http" || err.status !== 400) return undefined;
  if (err.code === RESERVED_ACCOUNT_NAME_CODE || err.target === "name") {
    // Retrying cannot help: the same name is refused again. Never reached by the names plan.ts makes.
    return new ExtensionError(`ONTAP refused the SVM user name ${username} on SVM ${svmName}: ${err.message}`, ["ERR_CONFIGURATION_PROBLEM"], { retriable: false, cause: err });
  }
  const aboutPassword = err.target === "password" || /password/i.test(err.message);
  if (!aboutPassword) return undefined;
  return new ExtensionError(
    `ONTAP refused the generated password of SVM user ${username} on SVM ${svmName}: ${err.message}. ` +
      `Set passwordRules in the component configuration to the rules of role vsadmin ` +
      `(security login role config show -vserver ${svmName} -role vsadmin) and restart the controller; no other password is tried until then`,
    ["ERR_CONFIGURATION_PROBLEM"],
    { retriable: false, cause: err },
  );
}

/** ONTAP's error code for an account name it keeps for itself. */
const RESERVED_ACCOUNT_NAME_CODE = "5636121";

/** Wrong answers risked per reconcile while looking for the password ONTAP holds (then a rotation, which needs none). */
export const MAX_WRONG_LOGINS = 3;

function accountLocked(name: string, svmName: string): ExtensionError {
  return new ExtensionError(
    `ONTAP user ${name} on SVM ${svmName} is locked (ONTAP's lockout after failed logins, or an operator's lock); ` +
      `no password is tried or set while it is locked: unlock it (security login unlock -vserver ${svmName} -username ${name}); will retry`,
    ["ERR_INFRA_UNAUTHENTICATED"],
    { retriable: true },
  );
}

function cannotVerify(name: string, reason: string, cause?: unknown): ExtensionError {
  return new ExtensionError(
    `cannot verify the stored password of ONTAP user ${name}: ${reason}; will retry`,
    ["ERR_RETRYABLE_INFRA_DEPENDENCIES"],
    { retriable: true, cause },
  );
}

/**
 * The Go extension kept the credentials in the seed's kube-system. Adopt them only once the user provably belongs
 * to this shoot (claimLegacyUser) and the password is live (or cannot be checked), then remove the old Secret so
 * exactly one copy exists. `owned` without `adopted`: the user is this shoot's but the Go password is stale.
 */
async function adoptLegacySecret(
  deps: CredentialsDeps,
  plan: ShootPlan,
  svm: Svm,
  check: VerifyCredentials,
  legacy: SecretObject,
): Promise<{ owned: boolean; adopted?: CredentialsResult }> {
  const { kube } = deps;
  const creds = decodeCredentials(legacy);
  const name = plan.legacyUsername;
  if (name === undefined || creds.username !== name || !creds.password) return { owned: false };
  const claim = await claimLegacyUser(deps, plan, svm, check, creds.password);
  if (claim.kind === "not-ours") return { owned: false };
  const verdict: Verdict = claim.kind === "unverified" ? { result: "unknown", reason: claim.reason } : (claim.proven ?? (await check(name, creds.password)));
  if (verdict.result === "wrong") return { owned: true };
  // Unknown is kept like a stored password: adopted (one copy, in the new place) and used, not rotated; the
  // owner is recorded once the password can be proven.
  await writeSecret(deps, plan, undefined, { username: name, password: creds.password }, "adopt the Go extension's Secret");
  await deleteGoSecret(kube, plan.legacySecret);
  const verification =
    verdict.result === "ok" ? { verified: true as const, at: verdict.at } : { verified: false as const, reason: verdict.reason };
  return { owned: true, adopted: { username: name, password: creds.password, outcome: "adopted-legacy", verification } };
}

/** Creates or replaces the seed Secret with exactly these credentials (optimistic concurrency on update). */
async function writeSecret(
  deps: CredentialsDeps,
  plan: ShootPlan,
  current: SecretObject | undefined,
  creds: StoredCredentials,
  purpose: string,
): Promise<SecretObject> {
  const body: SecretObject = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: plan.secret.name,
      namespace: plan.secret.namespace,
      labels: { ...CREDENTIALS_LABELS },
      annotations: { "ontap.extensions.gardener.cloud/svm": plan.svmName },
      ...(current?.metadata.resourceVersion ? { resourceVersion: current.metadata.resourceVersion } : {}),
    },
    type: "Opaque",
    data: encode(creds),
  };
  try {
    const written = current
      ? await deps.kube.update<SecretObject>(Secrets, body)
      : await deps.kube.create<SecretObject>(Secrets, body);
    deps.onSecretWrite?.("ok");
    return written;
  } catch (err) {
    deps.onSecretWrite?.("failed");
    throw new ExtensionError(
      `failed to write the seed Secret ${plan.secret.namespace}/${plan.secret.name} (to ${purpose}): ${(err as Error).message}; will retry`,
      ["ERR_RETRYABLE_INFRA_DEPENDENCIES"],
      { retriable: true, cause: err },
    );
  }
}
