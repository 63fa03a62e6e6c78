import { describe, expect, it } from "vitest";
import { diagnose, summarizeChecks, verdictFor, worstVerdict } from "../../src/diagnosis/diagnose.js";
import type { ShootObservation } from "../../src/diagnosis/observation.js";
import { type DoctorRow, reconcileCommand } from "../../src/diagnosis/row.js";
import { chooseInspected } from "../../src/diagnosis/observe.js";
import { expectedComponentNames } from "../../src/ontap-extension/components.js";

const NS = "shoot--alpha--web";
const RECONCILE = reconcileCommand(NS);
const MRS = ["trident-crds", "trident-backends", "trident-svm-secret", "trident-cwnp", "trident-init"];

function healthy(): ShootObservation {
  return {
    namespace: NS,
    observedAt: "2025-01-01T00:00:00.000Z",
    extension: {
      ok: true,
      value: {
        name: "ontap",
        class: "shoot",
        generation: 2,
        observedGeneration: 2,
        deleting: false,
        lastOperation: { type: "Reconcile", state: "Succeeded", description: "SVM palpha on sim-1 ...", progress: 100 },
        recordedCluster: "sim-1",
      },
    },
    expected: {
      ok: true,
      value: {
        svmName: "palpha",
        username: "web",
        secret: { namespace: NS, name: "ontap-svm-credentials" },
        legacySecret: { namespace: "kube-system", name: "palpha-alpha--web-credentials" },
        lifs: [
          { name: "datalif0", role: "data", ipAddress: "10.1.0.11", servicePolicy: "default-data-nvme-tcp" },
          { name: "managementlif", role: "management", ipAddress: "10.1.0.10", servicePolicy: "default-management" },
        ],
        managedResources: MRS,
      },
    },
    clusters: [
      { cluster: "sim-1", kind: "found", svm: { uuid: "u1", name: "palpha", state: "running", nvmeEnabled: true, mirror: false } },
      { cluster: "sim-2", kind: "absent" },
    ],
    inspectedCluster: "sim-1",
    lifs: {
      ok: true,
      value: [
        { name: "datalif0", ipAddress: "10.1.0.11" },
        { name: "managementlif", ipAddress: "10.1.0.10" },
      ],
    },
    account: { ok: true, value: { found: true, role: "vsadmin", locked: false } },
    secret: { ok: true, value: { found: true, username: "web", hasPassword: true, hasPendingPassword: false } },
    legacySecret: { ok: true, value: { found: false, hasPassword: false, hasPendingPassword: false } },
    password: { result: "ok" },
    managedResources: { ok: true, value: MRS.map((name) => ({ name, found: true, healthy: true, progressing: false, reason: "healthy" })) },
  };
}

function row(d: { rows: DoctorRow[] }, check: string): DoctorRow {
  const found = d.rows.find((r) => r.check === check);
  if (!found) throw new Error(`no row ${check} in ${d.rows.map((r) => r.check).join(", ")}`);
  return found;
}

describe("doctor: verdicts from observations", () => {
  it("calls a shoot whose every check matches healthy, with nothing to do", () => {
    const d = diagnose(healthy());
    expect(d.verdict).toBe("healthy");
    expect(d.rows.every((r) => r.status === "ok")).toBe(true);
    expect(d.nextAction).toMatch(/nothing to do/);
    expect(d.actions).toEqual([]);
  });

  it("calls a missing seed Secret broken and says to trigger a reconcile, naming the exact command", () => {
    const obs = healthy();
    obs.secret = { ok: true, value: { found: false, hasPassword: false, hasPendingPassword: false } };
    obs.password = { result: "not-checked", why: "no password is stored" };
    const d = diagnose(obs);
    expect(d.verdict).toBe("broken");
    expect(row(d, `seed Secret ${NS}/ontap-svm-credentials`)).toMatchObject({ status: "fail", actual: "missing" });
    expect(row(d, "stored password").status).toBe("skip");
    expect(d.nextAction).toBe(
      `the seed Secret is missing: ${RECONCILE}; the controller re-creates it and rotates the password`,
    );
    expect(RECONCILE).toBe(`kubectl annotate extension -n ${NS} ontap gardener.cloud/operation=reconcile --overwrite`);
  });

  it("while the seed Secret's create fails after the SVM exists, names the error's cause, not a reconcile the controller is already retrying", () => {
    const obs = healthy();
    obs.account = { ok: true, value: { found: false } };
    obs.secret = { ok: true, value: { found: false, hasPassword: false, hasPendingPassword: false } };
    obs.password = { result: "not-checked", why: "no password is stored" };
    if (!obs.extension.ok || !obs.extension.value) throw new Error("fixture");
    const failure = "failed to write the seed Secret shoot--alpha--web/ontap-svm-credentials: ServerError (HTTP 500); will retry";
    obs.extension.value.lastOperation = { type: "Create", state: "Error", description: failure };
    obs.extension.value.lastError = { description: failure, codes: ["ERR_RETRYABLE_INFRA_DEPENDENCIES"] };
    const d = diagnose(obs);
    expect(d.verdict).toBe("broken");
    expect(d.nextAction).toBe(
      `the controller is retrying and fails with: ${failure}; fix that cause: it then repairs ONTAP user web, seed Secret ${NS}/ontap-svm-credentials by itself`,
    );
    expect(summarizeChecks(["ONTAP user x", "LIF a", "ManagedResource m", "ManagedResource n", "seed Secret s"])).toBe(
      "ONTAP user x, seed Secret s, LIF a, 2 ManagedResources",
    );
    expect(d.actions[0]).toBe(d.nextAction);

    // A row the controller cannot repair keeps its own advice.
    obs.account = { ok: true, value: { found: true, role: "vsadmin", locked: true } };
    expect(diagnose(obs).nextAction).toMatch(/^unlock ONTAP user web/);
  });

  it("calls a stored password that ONTAP rejects broken (drifted) and says the controller rotates it", () => {
    const obs = healthy();
    obs.password = { result: "rejected" };
    const d = diagnose(obs);
    expect(d.verdict).toBe("broken");
    expect(row(d, "stored password")).toMatchObject({ status: "fail", actual: "rejected by ONTAP (drifted)" });
    expect(d.nextAction).toContain(RECONCILE);
    expect(d.nextAction).toMatch(/rotates it, storing the new password first/);
  });

  it("calls an interrupted rotation whose pendingPassword works degraded, not broken", () => {
    const obs = healthy();
    obs.secret = { ok: true, value: { found: true, username: "web", hasPassword: true, hasPendingPassword: true } };
    obs.password = { result: "rejected" };
    obs.pendingPassword = { result: "ok" };
    const d = diagnose(obs);
    expect(d.verdict).toBe("degraded");
    expect(row(d, "stored password").actual).toBe("rejected; pendingPassword authenticates");
    expect(d.nextAction).toMatch(/promotes pendingPassword/);
  });

  it("calls an SVM on two clusters broken and says to delete the wrong copy before reconciling", () => {
    const obs = healthy();
    obs.clusters[1] = { cluster: "sim-2", kind: "found", svm: { uuid: "u2", name: "palpha", state: "running", nvmeEnabled: true, mirror: false } };
    const d = diagnose(obs);
    expect(d.verdict).toBe("broken");
    expect(row(d, "SVM palpha").actual).toMatch(/^on 2 clusters: sim-1 .*u1.* and sim-2 .*u2/);
    expect(d.nextAction).toMatch(/exists on sim-1 and sim-2: the controller refuses to pick one\. Delete the wrong copy/);
  });

  it("calls an SVM found on another cluster than providerStatus records degraded", () => {
    const obs = healthy();
    obs.clusters = [
      { cluster: "sim-1", kind: "absent" },
      { cluster: "sim-2", kind: "found", svm: { uuid: "u2", name: "palpha", state: "running", nvmeEnabled: true, mirror: false } },
    ];
    obs.inspectedCluster = "sim-2";
    const d = diagnose(obs);
    expect(d.verdict).toBe("degraded");
    expect(row(d, "SVM palpha")).toMatchObject({ status: "warn", actual: expect.stringMatching(/on sim-2: .*providerStatus records sim-1/) });
  });

  it("says unknown, never absent, when a cluster does not answer and the SVM is nowhere else", () => {
    const obs = healthy();
    obs.clusters = [
      { cluster: "sim-1", kind: "no-answer", error: "ONTAP sim-1: find SVM palpha failed: connection reset" },
      { cluster: "sim-2", kind: "absent" },
    ];
    delete obs.inspectedCluster;
    delete obs.lifs;
    delete obs.account;
    obs.password = { result: "not-checked", why: "the SVM's cluster is not known" };
    const d = diagnose(obs);
    expect(d.verdict).toBe("unknown");
    const svm = row(d, "SVM palpha");
    expect(svm.status).toBe("unknown");
    expect(svm.actual).toMatch(/^unknown: absent on sim-2, sim-1 did not answer/);
    expect(d.rows.map((r) => r.actual).join("\n")).not.toMatch(/absent on every cluster/);
    expect(row(d, "ONTAP cluster sim-1")).toMatchObject({ status: "unknown", actual: expect.stringMatching(/^no answer: .*connection reset/) });
    expect(d.nextAction).toMatch(/^ONTAP cluster sim-1 does not answer/);
  });

  it("keeps a found SVM unknown while the other cluster is silent: a second copy cannot be ruled out", () => {
    const obs = healthy();
    obs.clusters[1] = { cluster: "sim-2", kind: "no-answer", error: "timeout" };
    const d = diagnose(obs);
    expect(d.verdict).toBe("unknown");
    expect(row(d, "SVM palpha").actual).toMatch(/on sim-1: running, NVMe enabled; sim-2 did not answer/);
  });

  it("prefers broken over unknown: a definite fault is reported even when a cluster is silent", () => {
    const obs = healthy();
    obs.clusters[1] = { cluster: "sim-2", kind: "no-answer", error: "timeout" };
    obs.password = { result: "rejected" };
    expect(diagnose(obs).verdict).toBe("broken");
  });

  it("calls an absent SVM broken when every cluster answered", () => {
    const obs = healthy();
    obs.clusters = [
      { cluster: "sim-1", kind: "absent" },
      { cluster: "sim-2", kind: "absent" },
    ];
    delete obs.lifs;
    delete obs.account;
    obs.password = { result: "not-checked", why: "there is no SVM" };
    const d = diagnose(obs);
    expect(d.verdict).toBe("broken");
    expect(row(d, "SVM palpha").actual).toBe("absent on every cluster (sim-1, sim-2)");
    expect(row(d, "LIF datalif0").status).toBe("skip");
    expect(d.nextAction).toMatch(/does not exist: kubectl annotate .*creates it on sim-1/);
  });

  it("reports a stopped SVM and disabled NVMe as things to fix on ONTAP, not by recreation", () => {
    const stopped = healthy();
    (stopped.clusters[0] as { svm: { state: string } }).svm.state = "stopped";
    expect(diagnose(stopped).nextAction).toMatch(/start it on ONTAP .*never recreates/);
    const noNvme = healthy();
    (noNvme.clusters[0] as { svm: { nvmeEnabled: boolean } }).svm.nvmeEnabled = false;
    expect(diagnose(noNvme).nextAction).toMatch(/enable the NVMe service/);
  });

  it("flags a missing LIF, and a LIF whose address differs as a providerConfig fix (never moved), and lists foreign LIFs without judging them", () => {
    const obs = healthy();
    obs.lifs = { ok: true, value: [{ name: "managementlif", ipAddress: "10.9.9.9" }, { name: "extra", ipAddress: "10.1.0.99" }] };
    const d = diagnose(obs);
    expect(row(d, "LIF datalif0")).toMatchObject({ status: "fail", actual: "missing", expected: "10.1.0.11 (default-data-nvme-tcp)" });
    expect(row(d, "LIF managementlif")).toMatchObject({ status: "fail", actual: "10.9.9.9 (differs from this shoot's providerConfig)", repairable: false });
    expect(row(d, "LIF managementlif")?.action).toMatch(/set this shoot's providerConfig address for managementlif to 10\.9\.9\.9/);
    expect(row(d, "other LIFs")).toMatchObject({ status: "ok", actual: "extra 10.1.0.99" });
    // One for the reconcile that creates the missing LIF, one for the providerConfig fix.
    expect(d.actions).toHaveLength(2);
  });

  it("flags a missing and a locked ONTAP user differently", () => {
    const missing = healthy();
    missing.account = { ok: true, value: { found: false } };
    expect(diagnose(missing).nextAction).toMatch(/creates the ONTAP user .* stored in the seed Secret before ONTAP sees it/);
    const locked = healthy();
    locked.account = { ok: true, value: { found: true, role: "vsadmin", locked: true } };
    const d = diagnose(locked);
    expect(row(d, "ONTAP user web").actual).toBe("present (vsadmin, LOCKED)");
    expect(d.nextAction).toMatch(/^unlock ONTAP user web/);
  });

  it("reports unhealthy and missing ManagedResources with their reason", () => {
    const obs = healthy();
    obs.managedResources = {
      ok: true,
      value: MRS.map((name, i) =>
        i === 0
          ? { name, found: true, healthy: false, progressing: false, reason: "ResourcesHealthy is False (x)" }
          : i === 1
            ? { name, found: false, healthy: false, progressing: false, reason: "managed resource does not exist" }
            : { name, found: true, healthy: true, progressing: false, reason: "healthy" },
      ),
    };
    const d = diagnose(obs);
    expect(row(d, "ManagedResource trident-crds")).toMatchObject({ status: "fail", actual: "ResourcesHealthy is False (x)" });
    expect(row(d, "ManagedResource trident-backends")).toMatchObject({ status: "fail", actual: "missing" });
    expect(d.nextAction).toMatch(/kubectl describe managedresource -n shoot--alpha--web trident-crds/);
  });

  it("calls a ManagedResource the resource manager has not caught up with degraded, not broken", () => {
    const obs = healthy();
    obs.managedResources = {
      ok: true,
      value: MRS.map((name, i) => ({ name, found: true, healthy: i !== 4, progressing: i === 4, reason: i === 4 ? "resource manager has not observed it yet" : "healthy" })),
    };
    const d = diagnose(obs);
    expect(d.verdict).toBe("degraded");
    expect(row(d, "ManagedResource trident-init")).toMatchObject({ status: "warn", actual: "resource manager has not observed it yet" });
    expect(d.nextAction).toMatch(/has not finished applying ManagedResource trident-init: re-run doctor in a minute/);
  });

  it("shows lastOperation Error and lastError with codes, and an escalation as broken", () => {
    const obs = healthy();
    if (!obs.extension.ok || !obs.extension.value) throw new Error("fixture");
    obs.extension.value.lastOperation = { type: "Reconcile", state: "Error", description: "failed to write the seed Secret ...; will retry" };
    obs.extension.value.lastError = { description: "failed to write the seed Secret ...; will retry", codes: ["ERR_RETRYABLE_INFRA_DEPENDENCIES"] };
    const erroring = diagnose(obs);
    expect(erroring.verdict).toBe("degraded");
    expect(row(erroring, "lastOperation").actual).toMatch(/^Reconcile Error \(generation 2\): failed to write the seed Secret/);
    expect(row(erroring, "lastError").actual).toBe("[ERR_RETRYABLE_INFRA_DEPENDENCIES] failed to write the seed Secret ...; will retry");

    obs.extension.value.escalation = { status: "True", reason: "ConsecutiveFailures", message: "5 consecutive failures", lastTransitionTime: "t" };
    const escalated = diagnose(obs);
    expect(escalated.verdict).toBe("broken");
    expect(row(escalated, "ReconcileEscalated")).toMatchObject({ status: "fail", actual: "True since t: 5 consecutive failures" });
  });

  it("says which Trident the shoot runs, as the status recorded it", () => {
    const obs = healthy();
    expect(obs.extension.ok && obs.extension.value ? diagnose(obs).rows.some((r) => r.check === "Trident") : true).toBe(false);
    if (!obs.extension.ok || !obs.extension.value) throw new Error("healthy() has an Extension");
    obs.extension.value.trident = { version: "25.10.0", operatorImage: "docker.io/netapp/trident-operator:25.10.0", selectedBy: "vector" };
    expect(row(diagnose(obs), "Trident")).toMatchObject({
      status: "ok",
      actual: "25.10.0 (operator docker.io/netapp/trident-operator:25.10.0, selected by vector)",
    });
  });

  it("calls bad input broken and names the field, without looking at ONTAP", () => {
    const obs = healthy();
    obs.expected = { ok: false, error: 'spec.providerConfig: svmIpaddresses.managementLif: "x" is not a valid IP address' };
    obs.clusters = [];
    const d = diagnose(obs);
    expect(d.verdict).toBe("broken");
    expect(d.rows.map((r) => r.check)).toEqual(["inputs", "lastOperation", "ReconcileEscalated"]);
    expect(d.nextAction).toMatch(/^fix the shoot's input \(spec.providerConfig: svmIpaddresses.managementLif/);
  });

  it("says so when the namespace has no ontap Extension, or the API server cannot be read", () => {
    const none = healthy();
    none.extension = { ok: true, value: undefined };
    expect(diagnose(none)).toMatchObject({ verdict: "broken", rows: [{ check: "Extension", actual: "none in this namespace" }] });
    const unreadable = healthy();
    unreadable.extension = { ok: false, error: "Forbidden" };
    expect(diagnose(unreadable).verdict).toBe("unknown");
  });

  it("treats a legacy Secret next to a working seed Secret as leftover to delete", () => {
    const obs = healthy();
    obs.legacySecret = { ok: true, value: { found: true, username: "web", hasPassword: true, hasPendingPassword: false } };
    const d = diagnose(obs);
    expect(d.verdict).toBe("degraded");
    expect(d.nextAction).toBe("the Go extension's Secret is no longer used: delete it (kubectl delete secret -n kube-system palpha-alpha--web-credentials)");
  });

  it("orders the verdicts broken > unknown > degraded > healthy", () => {
    const rows = (...statuses: DoctorRow["status"][]) => statuses.map((status, i) => ({ check: `c${i}`, expected: "", actual: "", status, action: `a${i}` }));
    expect(verdictFor(rows("ok", "warn", "unknown", "fail")).verdict).toBe("broken");
    expect(verdictFor(rows("ok", "warn", "unknown")).nextAction).toBe("a2");
    expect(verdictFor(rows("ok", "warn", "skip")).verdict).toBe("degraded");
    expect(verdictFor(rows("ok", "skip")).verdict).toBe("healthy");
    expect(worstVerdict(["healthy", "degraded", "unknown"])).toBe("unknown");
    expect(worstVerdict([])).toBe("healthy");
  });
});

describe("doctor: what it expects and where it looks", () => {
  it("expects the network policy and the webhook ManagedResources only when the configuration deploys them", () => {
    expect(expectedComponentNames({ clusterwideNetworkPolicy: false })).toEqual([
      "trident-crds",
      "trident-backends",
      "trident-svm-secret",
      "trident-init",
    ]);
    expect(
      expectedComponentNames({ clusterwideNetworkPolicy: true, shootWebhook: { url: "https://x", caFile: "f" } }),
    ).toEqual(["extension-ontap-shoot", ...MRS]);
  });

  it("inspects the recorded cluster's copy when there are two, and an own SVM before a mirror", () => {
    const svm = (uuid: string, mirror = false) => ({ uuid, name: "p", state: "running", mirror });
    expect(
      chooseInspected(
        [
          { cluster: "a", kind: "found", svm: svm("1") },
          { cluster: "b", kind: "found", svm: svm("2") },
        ],
        "b",
      )?.cluster,
    ).toBe("b");
    expect(
      chooseInspected(
        [
          { cluster: "a", kind: "found", svm: svm("1", true) },
          { cluster: "b", kind: "found", svm: svm("2") },
        ],
        "a",
      )?.cluster,
    ).toBe("b");
    expect(chooseInspected([{ cluster: "a", kind: "absent" }], "a")).toBeUndefined();
  });
});
