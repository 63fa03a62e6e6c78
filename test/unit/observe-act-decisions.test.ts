import { describe, expect, it } from "vitest";
import type { Lif, Svm } from "../../src/ontap/index.js";
import { type CredentialsDecision, decideCredentials, type StoredPasswordAnswers } from "../../src/ontap-extension/credentials.js";
import { decideLifs } from "../../src/ontap-extension/lifs.js";
import { planShoot } from "../../src/ontap-extension/plan.js";
import { decideSvm, type SvmObservation } from "../../src/ontap-extension/svm.js";
import type { Verdict } from "../../src/ontap-extension/verify-credentials.js";

/**
 * Each ONTAP step observes first, then acts on a decision that is a pure function of the observation
 * (crossplane-runtime's Observe -> ExternalObservation). These tables are those decisions: what each observed
 * state leads to, so "never create twice", "unknown is never absent" and "unknown never rotates" are each a row.
 */

const svm = (state: Svm["state"], extra: Partial<Svm> = {}): Svm => ({ uuid: "u-1", name: "p0a1b", state, ...extra });

describe("the SVM step decides from what it observed", () => {
  const rows: { observed: SvmObservation; justCreated?: boolean; act: string; detail?: RegExp }[] = [
    { observed: { kind: "absent" }, act: "create" },
    // Our own create answered running but the lookup does not list it yet: look again, never create twice.
    { observed: { kind: "absent" }, justCreated: true, act: "wait", detail: /being created/ },
    { observed: { kind: "unknown", cause: "cluster b: timeout", codes: ["ERR_RETRYABLE_INFRA_DEPENDENCIES"] }, act: "refuse", detail: /no SVM is created while any cluster cannot answer/ },
    { observed: { kind: "unknown", cause: "cluster b: timeout", codes: [] }, justCreated: true, act: "refuse" },
    { observed: { kind: "found", value: { cluster: "a", svm: svm("running") } }, act: "use" },
    { observed: { kind: "found", value: { cluster: "a", svm: svm("running", { nvmeEnabled: true }) } }, act: "use" },
    { observed: { kind: "found", value: { cluster: "a", svm: svm("running", { nvmeEnabled: false }) } }, act: "refuse", detail: /without NVMe/ },
    { observed: { kind: "found", value: { cluster: "a", svm: svm("initializing") } }, act: "wait", detail: /initializing/ },
    { observed: { kind: "found", value: { cluster: "a", svm: svm("starting") } }, act: "wait", detail: /starting/ },
    { observed: { kind: "found", value: { cluster: "a", svm: svm("deleting") } }, act: "wait", detail: /created anew once gone/ },
    // Never recreated: data may live there.
    { observed: { kind: "found", value: { cluster: "a", svm: svm("stopped") } }, act: "refuse", detail: /start it on ONTAP/ },
    { observed: { kind: "several", copies: [{ cluster: "a", svm: svm("running") }, { cluster: "b", svm: svm("running") }] }, act: "settle-race" },
  ];
  it.each(rows)("$observed.kind (justCreated $justCreated) -> $act", ({ observed, justCreated, act, detail }) => {
    const decision = decideSvm(observed, "p0a1b", justCreated ?? false);
    expect(decision.act).toBe(act);
    const text = decision.act === "refuse" ? decision.error.message : decision.act === "wait" ? decision.reason : "";
    if (detail) expect(text).toMatch(detail);
    if (decision.act === "refuse") expect(decision.error.retriable).toBe(true);
  });

  it("waits twice as long for an SVM being deleted as for one settling", () => {
    const wait = (state: Svm["state"]) => decideSvm({ kind: "found", value: { cluster: "a", svm: svm(state) } }, "p0a1b", false);
    expect(wait("starting")).toMatchObject({ act: "wait", polls: 1 });
    expect(wait("deleting")).toMatchObject({ act: "wait", polls: 2 });
  });
});

describe("the LIF step decides from the interfaces it found", () => {
  const plan = planShoot({
    projectId: "0a1b2c3d-aaaa-4bbb-8ccc-1234567890ad",
    gardenerProject: "lifs",
    shootName: "s",
    shootNamespace: "shoot--lifs--s",
    managementLif: "10.180.0.10",
    dataLifs: ["10.180.0.11", "10.180.0.12"],
  });
  const lif = (name: string, ipAddress: string): Lif => ({ uuid: `u-${name}`, name, ipAddress, netmask: "24" });
  const names = plan.lifs.map((l) => l.name);
  const all = plan.lifs.map((l) => lif(l.name, l.ipAddress));

  it("none found: every planned LIF is created", () => {
    const decision = decideLifs([], plan, { name: "svm" });
    expect(decision.act).toBe("create");
    if (decision.act === "create") expect(decision.missing.map((l) => l.name)).toEqual(names);
  });

  it("all found at the planned addresses: nothing is written, foreign ones are left alone", () => {
    const decision = decideLifs([...all, lif("operator-lif", "10.9.9.9")], plan, { name: "svm" });
    expect(decision).toMatchObject({ act: "keep", report: { created: [], foreign: ["operator-lif"] } });
  });

  it("one missing: only it is created", () => {
    const decision = decideLifs(all.slice(1), plan, { name: "svm" });
    expect(decision.act).toBe("create");
    if (decision.act === "create") expect(decision.missing.map((l) => l.name)).toEqual([names[0]]);
  });

  it("a LIF under its former name is the same LIF, kept under that name", () => {
    const data = plan.lifs.filter((l) => l.formerName !== undefined);
    expect(data.length).toBeGreaterThan(0);
    const found = plan.lifs.map((l) => lif(l.formerName ?? l.name, l.ipAddress));
    const decision = decideLifs(found, plan, { name: "svm" });
    expect(decision.act).toBe("keep");
    if (decision.act === "keep") expect(decision.report.lifs.map((l) => l.name)).toEqual(found.map((l) => l.name));
  });

  it("one found at another address: refused before any write, naming the field and the address to set", () => {
    const moved = all.map((l, i) => (i === 1 ? { ...l, ipAddress: "10.180.0.99" } : l));
    const decision = decideLifs(moved, plan, { name: "svm" });
    expect(decision.act).toBe("refuse");
    if (decision.act === "refuse") {
      expect(decision.error.message).toMatch(/svmIpaddresses\.dataLifs\[1\]: 10\.180\.0\.99/);
      expect(decision.error.retriable).toBe(false);
    }
  });
});

describe("the credentials step decides from which stored password authenticates", () => {
  const ok: Verdict = { result: "ok", at: "management LIF" };
  const wrong: Verdict = { result: "wrong", at: "management LIF" };
  const silent: Verdict = { result: "unknown", reason: "the LIF did not answer" };
  const rows: { name: string; answers: StoredPasswordAnswers; decision: CredentialsDecision }[] = [
    { name: "password works", answers: { current: ok, pendingStored: false }, decision: { act: "use-current" } },
    { name: "password works, a pending one never reached ONTAP", answers: { current: ok, pendingStored: true }, decision: { act: "clear-stale-pending" } },
    { name: "pending works (the promotion was lost)", answers: { current: wrong, pending: ok, pendingStored: true }, decision: { act: "promote-pending" } },
    { name: "only a pending one is stored and works", answers: { pending: ok, pendingStored: true }, decision: { act: "promote-pending" } },
    // Unknown is never wrong: nothing rotates while the LIF is silent.
    { name: "LIF silent, nothing pending", answers: { current: silent, pendingStored: false }, decision: { act: "keep-unverified", reason: silent.reason } },
    { name: "LIF silent during a rotation", answers: { current: silent, pendingStored: true }, decision: { act: "reapply-pending", reason: silent.reason } },
    { name: "password wrong, LIF silent for pending", answers: { current: wrong, pending: silent, pendingStored: true }, decision: { act: "reapply-pending", reason: silent.reason } },
    { name: "both wrong", answers: { current: wrong, pending: wrong, pendingStored: true }, decision: { act: "find-or-rotate" } },
    { name: "password wrong, nothing pending", answers: { current: wrong, pendingStored: false }, decision: { act: "find-or-rotate" } },
    // The account is absent or the lockout budget is spent: pending was not tried, no stored password can work.
    { name: "password wrong, pending not tried", answers: { current: wrong, pendingStored: true }, decision: { act: "find-or-rotate" } },
    { name: "nothing stored", answers: { pendingStored: false }, decision: { act: "find-or-rotate" } },
  ];
  it.each(rows)("$name", ({ answers, decision }) => {
    expect(decideCredentials(answers)).toEqual(decision);
  });
});
