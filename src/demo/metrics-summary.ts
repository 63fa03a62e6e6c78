import { type Metrics, sumCounter } from "../metrics/index.js";

/** What the story cost, from the controller's own counters: the lines under "Metrics" at the end. */
export async function metricsSummary(metrics: Metrics, injected: number): Promise<string[]> {
  const reconciles = (result: string) => sumCounter(metrics.reconcilesTotal, { result });
  const [ok = 0, requeued = 0, errors = 0, failed = 0] = await Promise.all(["succeeded", "requeued", "error", "failed"].map(reconciles));
  const secretOk = await sumCounter(metrics.stepOutcomesTotal, { step: "seed_secret_write", outcome: "ok" });
  const secretFailed = await sumCounter(metrics.stepOutcomesTotal, { step: "seed_secret_write", outcome: "failed" });
  const retries = await sumCounter(metrics.workqueueRetriesTotal);
  const ontap = await sumCounter(metrics.ontapRequestsTotal);
  const byMethod = await Promise.all(
    ["GET", "POST", "PATCH", "DELETE"].map(async (method) => [method, await sumCounter(metrics.ontapRequestsTotal, { method })] as const),
  );
  const kube = await sumCounter(metrics.kubeRequestsTotal);
  return [
    `reconciles:          ${ok + requeued + errors + failed} (${ok} succeeded, ${requeued} requeued while ONTAP jobs ran, ${errors} errors, ${failed} failed)`,
    `retries:             ${retries} (rate-limited re-queues after an error)`,
    `seed Secret writes:  ${secretOk} ok, ${secretFailed} failed (${injected} refused by the injected fault)`,
    `ONTAP requests:      ${ontap} (${byMethod.filter(([, n]) => n > 0).map(([m, n]) => `${n} ${m}`).join(", ")})`,
    `Kubernetes requests: ${kube}`,
  ];
}
