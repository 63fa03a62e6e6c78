import { callId, type Flow, type MatrixCall, type Mode } from "./chaos-calls.js";

/**
 * Which fault-matrix scenarios prove the same thing, computed from the recorded flows (never from a list of
 * calls written by hand, so it stays right when the controller's calls change).
 *
 * A fault at a call exercises the code that made the call, the code that handles its failure and the code
 * that continues from there. Two scenarios with the same fault mode prove the same thing when their calls
 * are on the same call path:
 * - the same call, once the ManagedResource it names is read as a placeholder (the shoot's components are
 *   torn down one after another by one function: a delete's six look, delete-Secret, delete, look-again
 *   runs are one loop), with the same call right before it and right after it (so the first and the last
 *   component, whose neighbours are the status write and the ONTAP teardown, stay apart from the middle
 *   ones, whose calls match one of the two);
 * - and, between two flows, the same calls in the same order from the start of the flow up to the call after
 *   it (the delete of a shoot whose sibling stays makes the delete of a project's last shoot's calls until it
 *   finds the sibling's user: up to there the controller cannot know which flow it is in).
 * And apply-then-fail at a read is the transient fault at that call: a read changes nothing on the server, and
 * both answers are a 500 the clients classify as transient (ONTAP codes 1967102 and 13434889 are both in
 * `TRANSIENT_ONTAP_CODES`; Kubernetes answers 500 with no code either way).
 *
 * Of each class of equivalent scenarios one runs. The flows' order is the preference: the earlier flow's
 * scenario runs. Within a flow, a class keeps the scenario in a component whose own calls have no
 * equivalent (so a delete keeps its first and last ManagedResource, not a scatter of middle ones), else the
 * earliest.
 */

export type Equivalence = "same call path" | "apply-then-fail at a read is transient";

export interface ScenarioRef {
  flow: Flow;
  index: number;
  mode: Mode;
}

export interface CoveredScenario extends ScenarioRef {
  /** The kept scenario that proves the same. */
  by: ScenarioRef;
  reason: Equivalence;
}

export interface FlowCalls {
  flow: Flow;
  calls: MatrixCall[];
}

export interface Selection {
  kept: { call: MatrixCall; mode: Mode }[];
  covered: CoveredScenario[];
}

const MR_PATH = /\/managedresources\/([^/]+)$/;

/** The ManagedResources a flow names in its calls (a delete looks at each by name); creates POST them unnamed. */
export function componentsOf(calls: readonly MatrixCall[]): string[] {
  const names = new Set<string>();
  for (const c of calls) {
    const m = c.side === "kube" ? MR_PATH.exec(c.pattern) : null;
    if (m) names.add(m[1]!);
  }
  // Longest first: a name that is a prefix of another must not eat into it.
  return [...names].sort((a, b) => b.length - a.length);
}

/** The component (ManagedResource) a call is about, if any: the ManagedResource itself or its Secret. */
export function componentOf(call: MatrixCall, components: readonly string[]): string | undefined {
  if (call.side !== "kube") return undefined;
  return components.find((name) => call.pattern.endsWith(`/managedresources/${name}`) || call.pattern.endsWith(`/secrets/managedresource-${name}`));
}

/** The call with the ManagedResource it names read as `{mr}`: what the teardown loop does at each component. */
export function shapeOf(call: MatrixCall | undefined, components: readonly string[]): string {
  if (!call) return "(none)";
  const name = componentOf(call, components);
  if (!name) return callId(call);
  return callId({ ...call, pattern: `${call.pattern.slice(0, -name.length)}{mr}` });
}

/** The call, the one before and the one after, as shapes. */
export function neighbourhood(calls: readonly MatrixCall[], index: number, components: readonly string[]): string {
  return [shapeOf(calls[index - 1], components), shapeOf(calls[index], components), shapeOf(calls[index + 1], components)].join(" > ");
}

/** True when both flows make the same calls in the same order up to and including `through` (or both end before). */
export function samePrefix(a: readonly MatrixCall[], b: readonly MatrixCall[], through: number): boolean {
  for (let i = 0; i <= through; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined && y === undefined) return true;
    if (x === undefined || y === undefined || callId(x) !== callId(y)) return false;
  }
  return true;
}

/**
 * The flow whose scenario stands for a call: the first flow (in the given order) that makes the same calls up
 * to the one after it. The call's own flow when no earlier one does.
 */
function branchOf(flows: readonly FlowCalls[], flow: FlowCalls, index: number): Flow {
  for (const other of flows) {
    if (other === flow) return flow.flow;
    if (samePrefix(other.calls, flow.calls, index + 1)) return other.flow;
  }
  return flow.flow;
}

/** The class a call belongs to: scenarios with the same mode at calls of one class prove the same. */
export function pathClass(flows: readonly FlowCalls[], flow: FlowCalls, index: number): string {
  return `${branchOf(flows, flow, index)} | ${neighbourhood(flow.calls, index, componentsOf(flow.calls))}`;
}

/**
 * The scenarios to run: one per class and mode. `modes` are those of this run (apply-then-fail at a read is
 * covered only when transient runs too).
 */
export function selectScenarios(flows: readonly FlowCalls[], modes: readonly Mode[], modesAt: (call: MatrixCall) => readonly Mode[] = () => modes): Selection {
  interface Member {
    flow: FlowCalls;
    call: MatrixCall;
    component: string | undefined;
  }
  const classes = new Map<string, Member[]>();
  for (const flow of flows) {
    const components = componentsOf(flow.calls);
    flow.calls.forEach((call, index) => {
      const key = pathClass(flows, flow, index);
      const members = classes.get(key) ?? [];
      members.push({ flow, call, component: componentOf(call, components) });
      classes.set(key, members);
    });
  }
  // A class's members in its earliest flow (a later flow's members repeat that flow's calls).
  const home = (members: Member[]) => members.filter((m) => m.flow === members[0]!.flow);
  // Components that run anyway (a call of theirs has no equivalent in its flow): their calls stand for the class.
  const anchored = new Set<string>();
  for (const members of classes.values()) {
    const own = home(members);
    if (own.length === 1 && own[0]!.component) anchored.add(`${own[0]!.flow.flow}/${own[0]!.component}`);
  }
  const representative = new Map<string, Member>();
  for (const [key, members] of classes) {
    const own = home(members);
    representative.set(key, own.find((m) => m.component && anchored.has(`${m.flow.flow}/${m.component}`)) ?? own[0]!);
  }

  const kept: Selection["kept"] = [];
  const covered: CoveredScenario[] = [];
  for (const flow of flows) {
    flow.calls.forEach((call, index) => {
      const rep = representative.get(pathClass(flows, flow, index))!;
      for (const mode of modesAt(call)) {
        const readAsTransient = mode === "applyThenFail" && call.method === "GET" && modesAt(rep.call).includes("transient");
        const runsHere = rep.call === call && !readAsTransient;
        if (runsHere) {
          kept.push({ call, mode });
          continue;
        }
        if (readAsTransient) {
          covered.push({ flow: flow.flow, index, mode, by: { flow: rep.flow.flow, index: rep.call.index, mode: "transient" }, reason: "apply-then-fail at a read is transient" });
        } else if (modesAt(rep.call).includes(mode)) {
          covered.push({ flow: flow.flow, index, mode, by: { flow: rep.flow.flow, index: rep.call.index, mode }, reason: "same call path" });
        } else {
          // The class's scenario does not run this mode (a part of the matrix choosing modes per call): keep it.
          kept.push({ call, mode });
        }
      }
    });
  }
  return { kept, covered };
}
