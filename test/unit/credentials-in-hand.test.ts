import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExtensionError } from "../../src/extension/errors.js";
import { Secrets } from "../../src/kube/resources.js";
import type { OntapClient, Svm } from "../../src/ontap/index.js";
import { decodeCredentials, establishCredentials, type SecretObject } from "../../src/ontap-extension/credentials.js";
import { planShoot } from "../../src/ontap-extension/plan.js";
import type { Verdict, VerifyCredentials } from "../../src/ontap-extension/verify-credentials.js";
import type { SimAdmin } from "../../src/simulator/admin-client.js";
import type { RunningSimulator } from "../../src/simulator/index.js";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { startOneClusterSim, stopOneClusterSim } from "../support/one-cluster-sim.js";

/**
 * A new password is handed on (to Trident's rendering) as soon as it is on ONTAP and stored, while its proof at
 * the LIF and its promotion run: secret first still holds (the Secret held it as pendingPassword before ONTAP
 * saw it), and what the reconcile reports as proven waits for the proof. The proof here is held open by the
 * test, so "before" is an order, not a time.
 */

let sim: RunningSimulator;
let admin: SimAdmin;
let client: OntapClient;

beforeAll(async () => {
  ({ sim, admin, client } = await startOneClusterSim());
});
afterAll(() => stopOneClusterSim({ sim, admin, client }));

const plan = (shoot: string) =>
  planShoot({
    projectId: "0a1b2c3d-aaaa-4bbb-8ccc-1234567890ae",
    gardenerProject: "hand",
    shootName: shoot,
    shootNamespace: `shoot--hand--${shoot}`,
    managementLif: "10.180.0.10",
    dataLifs: ["10.180.0.11"],
  });

/** A verifier whose answers the test releases: each call waits for the next `answer`. */
function heldVerifier() {
  const waiting: ((v: Verdict) => void)[] = [];
  const verify: VerifyCredentials = () => new Promise<Verdict>((resolve) => waiting.push(resolve));
  /** Answers the next login once it has been asked (waits for the ask, not for a time). */
  const answer = async (v: Verdict) => {
    while (waiting.length === 0) await new Promise((r) => setImmediate(r));
    waiting.shift()?.(v);
  };
  return { verify, calls: () => waiting.length, answer };
}

async function newSvm(name: string): Promise<Svm> {
  return { ...(await admin.createSvmDirect({ name })), state: "running" };
}

async function storedOf(kube: ReturnType<typeof createFakeKubeClient>, p: ReturnType<typeof plan>) {
  return decodeCredentials(await kube.get<SecretObject>(Secrets, p.secret.namespace, p.secret.name));
}

describe("a new password in hand before its proof", () => {
  it("answers once the user exists on ONTAP with the password stored as pending; proven and promoted only after the proof", async () => {
    const svm = await newSvm("phand1");
    const kube = createFakeKubeClient();
    const p = plan("first");
    const held = heldVerifier();
    const creds = await establishCredentials({ kube, ontap: client, verify: held.verify }, p, svm);
    // In hand: the account was created with it, and the Secret held it before (pending, not yet promoted).
    expect((await client.authenticateAs({ name: p.username, password: creds.password })).result).toBe("ok");
    const stored = await storedOf(kube, p);
    expect(stored.pendingPassword === creds.password || stored.password === creds.password).toBe(true);
    let proven = false;
    void creds.proven.then(() => {
      proven = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(held.calls()).toBe(1);
    expect(proven).toBe(false);
    await held.answer({ result: "ok", at: "management LIF" });
    const result = await creds.proven;
    expect(result).toMatchObject({ outcome: "rotated", password: creds.password, verification: { verified: true, at: "management LIF" } });
    expect(await storedOf(kube, p)).toMatchObject({ password: creds.password, pendingPassword: undefined });
  });

  it("a proof that fails rejects `proven` with the retriable error, never a success", async () => {
    const svm = await newSvm("phand2");
    const kube = createFakeKubeClient();
    const p = plan("wrong");
    const held = heldVerifier();
    const creds = await establishCredentials({ kube, ontap: client, verify: held.verify }, p, svm);
    await held.answer({ result: "wrong", at: "management LIF" });
    const err = await creds.proven.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ExtensionError);
    expect((err as Error).message).toMatch(/was set but does not authenticate/);
  });

  it("a password proven already (nothing to rotate) is in hand and proven at once", async () => {
    const svm = await newSvm("phand3");
    const kube = createFakeKubeClient();
    const p = plan("live");
    const held = heldVerifier();
    const first = await establishCredentials({ kube, ontap: client, verify: held.verify }, p, svm);
    await held.answer({ result: "ok", at: "management LIF" });
    await first.proven;
    const again = establishCredentials({ kube, ontap: client, verify: held.verify }, p, svm);
    await held.answer({ result: "ok", at: "management LIF" });
    const creds = await again;
    expect(await creds.proven).toMatchObject({ outcome: "verified", password: first.password });
  });
});
