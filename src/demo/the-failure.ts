import { summarizeChecks } from "../diagnosis/diagnose.js";
import type { KubeClient } from "../kube/client.js";
import type { FaultProxy } from "../testenv/index.js";
import { createShoot, DEMO_SHOOTS, FAILING_SHOOT, PROJECTS } from "./demo-shoots.js";
import type { Display } from "./display.js";
import type { Observer, Snapshot } from "./observer.js";
import { shootClusterComplete } from "./shoot-view.js";
import { waitFor, waitForGardenerReady } from "./wait.js";

/** The failure is held until the controller has retried this often (and escalated), so it can be seen. */
export const FAILURES_TO_SHOW = 3;
const HOLD_FAULT_MS = 5_000;
const PHASE_TIMEOUT_MS = 120_000;

/**
 * Phases 4 to 6 of the story: the article's failure armed before Gardener creates anything, the shoots
 * created, the failure reported and retried (and escalated), then cleared, and every shoot converging.
 * Returns the snapshot in which every shoot is healthy, and how many creates the fault refused.
 */
export async function playTheFailure(
  display: Display,
  opts: { kube: KubeClient; proxy: FaultProxy; observer: Observer; signal: AbortSignal },
): Promise<{ final: Snapshot; refused: number }> {
  const { kube, proxy, observer, signal } = opts;
  // 4. The article's failure, armed before Gardener creates anything.
  // The seed Secret's create is the second Secret create in the namespace: trident-crds' ManagedResource
  // Secret is written first, at the start of the first pass; the seed Secret once the SVM exists.
  const rule = proxy.rules.add({
    method: "POST",
    path: `^/api/v1/namespaces/${FAILING_SHOOT}/secrets$`,
    nth: 2,
    count: 1_000,
    action: { type: "error", status: 500, message: "the demo's fault proxy refuses this create (the article's failure)" },
  });
  display.note(`fault armed: kube-apiserver answers 500 to every create of the seed Secret in ${FAILING_SHOOT}`);

  // 5. What Gardener does for each shoot: namespace, Cluster, Extension with the reconcile annotation.
  const gardener = display.step("Gardener creates the namespaces, Clusters and Extensions of 3 shoots in 2 projects");
  await Promise.all(DEMO_SHOOTS.map((shoot) => createShoot(kube, shoot)));
  observer.watch(DEMO_SHOOTS.map((s) => s.namespace));
  gardener.done(`Gardener created 3 shoots: ${PROJECTS.map((p) => `project ${p.project} (${p.shoots.join(", ")})`).join(", ")}`);

  await showTheFailure(display, observer, signal);

  // 6. The fault clears; the next retry converges.
  proxy.rules.remove(rule.id);
  display.note(`fault cleared after ${rule.hits} refused Secret creates`);
  const recovery = display.step(
    "waiting for every shoot to converge: Succeeded, password verified, Trident healthy (doctor: healthy), and everything arrived in the shoot",
  );
  const final = await waitFor(
    () => {
      const snap = observer.latest();
      const all = DEMO_SHOOTS.every(
        (s) => snap.diagnoses.get(s.namespace)?.verdict === "healthy" && shootClusterComplete(snap.shootClusters.get(s.namespace)),
      );
      return all ? snap : undefined;
    },
    PHASE_TIMEOUT_MS,
    "every shoot to be healthy",
    signal,
  );
  await waitForGardenerReady(kube, DEMO_SHOOTS.map((s) => s.namespace), PHASE_TIMEOUT_MS, signal);
  recovery.done(`recovered: every shoot Succeeded and verified; ${FAILING_SHOOT} after ${observer.retries(FAILING_SHOOT)} retries`);
  return { final, refused: rule.hits };
}

/** The failing shoot reports the error, doctor names it, and the controller retries (and escalates) while it lasts. */
async function showTheFailure(display: Display, observer: Observer, signal: AbortSignal): Promise<void> {
  const failing = display.step(`waiting for ${FAILING_SHOOT}'s Extension to report the failure`);
  const reported = await waitFor(
    () => {
      const ext = observer.latest().observations.get(FAILING_SHOOT)?.extension;
      const facts = ext?.ok ? ext.value : undefined;
      return facts?.lastOperation?.state === "Error" && /seed Secret/.test(facts.lastError?.description ?? "") ? facts : undefined;
    },
    PHASE_TIMEOUT_MS,
    `${FAILING_SHOOT} to report the failed Secret create`,
    signal,
  );
  failing.done(`${FAILING_SHOOT} reports Error [${reported.lastError?.codes.join(", ")}]: ${reported.lastError?.description}`);

  const diagnosis = observer.latest().diagnoses.get(FAILING_SHOOT);
  if (diagnosis) {
    const failingChecks = summarizeChecks(diagnosis.rows.filter((r) => r.status === "fail").map((r) => r.check));
    const next = diagnosis.nextAction.startsWith("the controller is retrying")
      ? "fix the cause of that error; the controller keeps retrying and then repairs the rest by itself"
      : diagnosis.nextAction;
    display.note(`doctor says ${FAILING_SHOOT} is ${diagnosis.verdict} (failing: ${failingChecks}); next action: ${next}`);
  }

  const escalationOf = () => {
    const ext = observer.latest().observations.get(FAILING_SHOOT)?.extension;
    return ext?.ok ? ext.value?.escalation : undefined;
  };
  const holding = display.step(`the controller retries ${FAILING_SHOOT} with backoff; no password reaches ONTAP before it is stored`);
  const holdStart = Date.now();
  await waitFor(
    () => {
      const retries = observer.retries(FAILING_SHOOT);
      const escalated = escalationOf()?.status === "True";
      holding.update(`the controller retries ${FAILING_SHOOT} with backoff (${retries} failed reconciles${escalated ? ", escalated" : ""}); no password reaches ONTAP before it is stored`);
      return Date.now() - holdStart >= HOLD_FAULT_MS && retries >= FAILURES_TO_SHOW && (escalated || Date.now() - holdStart > 20_000) ? true : undefined;
    },
    PHASE_TIMEOUT_MS,
    "the retries to show",
    signal,
  );
  const escalation = escalationOf();
  holding.done(
    `${FAILING_SHOOT}: ${observer.retries(FAILING_SHOOT)} failed reconciles, each retried${escalation?.status === "True" ? `; escalated: ReconcileEscalated=True (${escalation.message})` : ""}`,
  );
}
