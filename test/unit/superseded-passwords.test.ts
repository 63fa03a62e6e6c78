import { describe, expect, it } from "vitest";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { Secrets } from "../../src/kube/resources.js";
import type { OntapClient, Svm } from "../../src/ontap/index.js";
import { decodeCredentials, ensureCredentials, type SecretObject } from "../../src/ontap-extension/credentials.js";
import type { ShootPlan } from "../../src/ontap-extension/plan.js";
import type { VerifyCredentials } from "../../src/ontap-extension/verify-credentials.js";
import { pruneSuperseded, SUPERSEDED_MAX, SUPERSEDED_RETENTION_MS, supersede } from "../../src/ontap-extension/superseded-passwords.js";

/**
 * A pending password given up on may still land on ONTAP (its write outlived its client, or its leader): the
 * Secret keeps it for a while, and a reconcile that finds ONTAP holding it promotes it. The ONTAP side here is
 * one variable (the password ONTAP holds) behind the verifier, which is all the protocol sees of it; the
 * leadership chaos test plays the same race against the simulator with two controllers.
 */

const plan = {
  svmName: "pabc",
  username: "shoot1",
  secret: { namespace: "shoot--p--s", name: "ontap-svm-credentials" },
  legacySecret: { namespace: "kube-system", name: "legacy" },
} as unknown as ShootPlan;
const svm = { uuid: "svm-uuid", name: "pabc" } as Svm;

function world(initial: { ontapPassword: string; secret: Record<string, string> }) {
  const kube = createFakeKubeClient();
  let ontapPassword = initial.ontapPassword;
  const sets: string[] = [];
  const ontap = {
    getAccount: async () => ({ name: plan.username }),
    changePassword: async ({ password }: { password: string }) => {
      sets.push(password);
      ontapPassword = password;
    },
  } as unknown as OntapClient;
  let clock = Date.parse("2026-12-01T12:00:00Z");
  let generated = 0;
  const deps = {
    kube,
    ontap,
    verify: (async (_, password) =>
      password === ontapPassword ? { result: "ok", at: "management LIF" } : { result: "wrong", at: "management LIF" }) satisfies VerifyCredentials,
    generate: () => `Generated-${++generated}-Passw0rd`,
    now: () => clock,
  };
  return {
    kube,
    deps,
    sets,
    land: (password: string) => {
      ontapPassword = password;
    },
    advance: (ms: number) => {
      clock += ms;
    },
    async create() {
      await kube.create<SecretObject>(Secrets, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { ...plan.secret },
        data: Object.fromEntries(Object.entries({ username: plan.username, ...initial.secret }).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
      });
    },
    stored: async () => decodeCredentials(await kube.get<SecretObject>(Secrets, plan.secret.namespace, plan.secret.name)),
  };
}

describe("superseded passwords", () => {
  it("a rotation keeps the pending password it gives up on, and promotes it once its late write landed", async () => {
    // The old leader stored P1 as pending and its change is still on the wire; ONTAP holds a drifted password.
    const w = world({ ontapPassword: "drifted", secret: { password: "P0", pendingPassword: "P1" } });
    await w.create();
    const first = await ensureCredentials(w.deps, plan, svm);
    expect(first.outcome).toBe("rotated");
    expect(w.sets).toEqual(["Generated-1-Passw0rd"]);
    const afterRotation = await w.stored();
    expect(afterRotation.password).toBe("Generated-1-Passw0rd");
    expect(afterRotation.superseded?.map((e) => e.password)).toEqual(["P1"]);

    // The old leader's write lands: ONTAP holds P1, which the Secret still holds (secret first).
    w.land("P1");
    const second = await ensureCredentials(w.deps, plan, svm);
    expect(second).toMatchObject({ outcome: "promoted-superseded", password: "P1" });
    expect(w.sets).toHaveLength(1);
    const promoted = await w.stored();
    expect(promoted.password).toBe("P1");
    expect(promoted.pendingPassword).toBeUndefined();
    expect(promoted.superseded ?? []).toEqual([]);
  });

  it("clearing a stale pending password keeps it superseded; a verified no-op writes nothing", async () => {
    const w = world({ ontapPassword: "P0", secret: { password: "P0", pendingPassword: "P1" } });
    await w.create();
    expect((await ensureCredentials(w.deps, plan, svm)).outcome).toBe("cleared-stale-pending");
    expect((await w.stored()).superseded?.map((e) => e.password)).toEqual(["P1"]);
    const rv = (await w.kube.get<SecretObject>(Secrets, plan.secret.namespace, plan.secret.name))?.metadata.resourceVersion;
    expect((await ensureCredentials(w.deps, plan, svm)).outcome).toBe("verified");
    expect((await w.kube.get<SecretObject>(Secrets, plan.secret.namespace, plan.secret.name))?.metadata.resourceVersion).toBe(rv);
  });

  it("forgets a superseded password once its write can no longer land", async () => {
    const w = world({ ontapPassword: "drifted", secret: { password: "P0", pendingPassword: "P1" } });
    await w.create();
    await ensureCredentials(w.deps, plan, svm);
    w.advance(SUPERSEDED_RETENTION_MS + 1);
    w.land("P1"); // too late to be believed: not a candidate any more, so a rotation follows
    const outcome = await ensureCredentials(w.deps, plan, svm);
    expect(outcome.outcome).toBe("rotated");
    expect((await w.stored()).superseded ?? []).toEqual([]);
  });

  it("is bounded, newest first, and never lists a password in use", () => {
    const now = Date.parse("2026-12-01T12:00:00Z");
    let list = supersede([], ["a"], now - 1000);
    for (let i = 0; i < SUPERSEDED_MAX + 3; i++) list = supersede(list, [`p${i}`], now + i);
    expect(list).toHaveLength(SUPERSEDED_MAX);
    expect(list[0]!.password).toBe(`p${SUPERSEDED_MAX + 2}`);
    expect(supersede(list, [], now, [`p${SUPERSEDED_MAX + 2}`]).map((e) => e.password)).not.toContain(`p${SUPERSEDED_MAX + 2}`);
    expect(pruneSuperseded([{ password: "x", since: "not a date" }], now)).toEqual([]);
  });

  it("drops an entry dated in the future (it would never expire), keeping one within the replicas' clock skew", () => {
    const now = Date.parse("2026-12-01T12:00:00Z");
    const kept = pruneSuperseded(
      [
        { password: "far", since: "2027-06-01T00:00:00Z" },
        { password: "skew", since: new Date(now + 30_000).toISOString() },
      ],
      now,
    );
    expect(kept.map((e) => e.password)).toEqual(["skew"]);
  });
});
