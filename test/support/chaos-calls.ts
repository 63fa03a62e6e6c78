/**
 * The fault matrix's vocabulary: the flows, the fault modes and a recorded call, without the lanes that
 * drive them (so the derivation and the equivalence of scenarios load without a test world).
 */

export type Flow = "create" | "delete-sibling" | "delete-last" | "create-sibling" | "rotate";
/**
 * The flows of every run: one shoot's create and its delete (without and with a sibling). The delete of a
 * project's last shoot comes first: the calls a sibling's delete shares with it are proven there.
 */
export const FLOWS: Flow[] = ["create", "delete-last", "delete-sibling"];
/** CHAOS_FULL=1 adds a second shoot joining a project's SVM and the repair of a drifted password. */
export const FULL_FLOWS: Flow[] = [...FLOWS, "create-sibling", "rotate"];
export const FLOW_TITLES: Record<Flow, string> = {
  create: "create (first shoot of a project)",
  "delete-sibling": "delete (another shoot of the project stays)",
  "delete-last": "delete (the project's last shoot: user, LIFs and SVM go)",
  "create-sibling": "create (a second shoot joins the project's SVM)",
  rotate: "reconcile after the password drifted on ONTAP (rotation, secret first)",
};

export type Mode = "transient" | "permanent" | "reset" | "hang" | "applyThenFail" | "crash" | "crash-unapplied";
export const IN_PROCESS_MODES: Mode[] = ["transient", "permanent", "reset", "hang", "applyThenFail"];
export const MODES: Mode[] = [...IN_PROCESS_MODES, "crash"];
/** CHAOS_FULL=1 adds a SIGKILL while the call hangs: the server never acts on it. */
export const FULL_MODES: Mode[] = [...MODES, "crash-unapplied"];
export const isCrash = (mode: Mode) => mode === "crash" || mode === "crash-unapplied";

export interface MatrixCall {
  flow: Flow;
  /** Position in the recorded flow (0-based, ONTAP and Kubernetes merged by arrival time). */
  index: number;
  side: "ontap" | "kube";
  method: string;
  /**
   * ONTAP: the route template. Kubernetes: the concrete path with the scenario's names replaced by
   * `{ns}`, `{svm}`, `{project}`, `{shoot}`, so each scenario aims at its own objects only.
   */
  pattern: string;
  cluster?: string;
  /** This is the nth call of the same (cluster,) method and pattern in the flow. */
  nth: number;
  /** What the call was for, when the path alone does not say (query, who authenticated). */
  note?: string;
}

export function callId(call: MatrixCall): string {
  const where = call.side === "ontap" ? `ONTAP ${call.cluster}` : "kube";
  return `${where} ${call.method} ${call.pattern} #${call.nth}`;
}
