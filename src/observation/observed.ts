/**
 * What an observation of one ONTAP resource can say: it is there (with what was read), it is not there, or
 * nobody could tell, and why. Unknown is never folded into absent: a cluster that does not answer may hold
 * the resource, and acting (or alarming) on "absent" there would be wrong.
 */
export type Observed<T> = { kind: "found"; value: T } | { kind: "absent" } | { kind: "unknown"; cause: string };

export const found = <T>(value: T): Observed<T> => ({ kind: "found", value });
export const absent: Observed<never> = { kind: "absent" };
export const unknown = (cause: string): Observed<never> => ({ kind: "unknown", cause });

/**
 * Which stored password of the shoot's seed Secret authenticates as its SVM user: the current one
 * (`password`), the one a rotation stored before setting it on ONTAP (`pendingPassword`), none (ONTAP rejects
 * every stored one), or unknown (no answer, nothing stored, or not checked), with the cause.
 */
export type PasswordProof =
  | { authenticates: "current" }
  | { authenticates: "pending" }
  | { authenticates: "none" }
  | { authenticates: "unknown"; cause: string };

/** What one login as the shoot's user answered (the verdicts of `ontap-extension/verify-credentials.ts`). */
export type LoginAnswer = { result: "ok" } | { result: "rejected" } | { result: "no-answer"; error: string } | { result: "not-checked"; why: string };

/** The stored passwords' answers reduced to which one authenticates. The current one wins when both do. */
export function passwordProof(current: LoginAnswer | undefined, pending: LoginAnswer | undefined): PasswordProof {
  if (current?.result === "ok") return { authenticates: "current" };
  if (pending?.result === "ok") return { authenticates: "pending" };
  const answers: LoginAnswer[] = [];
  if (current) answers.push(current);
  if (pending) answers.push(pending);
  if (answers.length > 0 && answers.every((a) => a.result === "rejected")) return { authenticates: "none" };
  const why = answers.find((a) => a.result === "no-answer" || a.result === "not-checked");
  const cause = why?.result === "no-answer" ? why.error : why?.result === "not-checked" ? why.why : "not checked";
  return { authenticates: "unknown", cause };
}
