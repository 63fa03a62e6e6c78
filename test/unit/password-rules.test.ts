import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExtensionError } from "../../src/extension/errors.js";
import { createFakeKubeClient } from "../../src/testenv/fake-kube.js";
import { Secrets } from "../../src/kube/resources.js";
import { createOntapClient } from "../../src/ontap/index.js";
import { decodeCredentials, ensureCredentials, type SecretObject } from "../../src/ontap-extension/credentials.js";
import { planShoot } from "../../src/ontap-extension/plan.js";
import { DEFAULT_PASSWORD_RULES } from "../../src/ontap-extension/password.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * ONTAP's password rules as configured on the role: the simulator enforces them (a STIG-like role here: at least
 * 12 characters, one special character, one digit), the generator follows the configured ones, and a refusal for
 * a rule is a clear, permanent error that does not rotate again and again.
 */

let sim: RunningSimulator;
let admin: SimAdmin;

beforeAll(async () => {
  sim = await startSimulator({ jobMs: 0, passwordRules: { minLength: 12, minSpecialCharacters: 1, minDigits: 1 } });
  admin = new SimAdmin(sim.clusters[0]!);
});
afterAll(async () => {
  await admin.close();
  await sim.stop();
});

function plan(shoot: string) {
  return planShoot({
    projectId: "0d9e2f4a-1111-2222-3333-444455556666",
    gardenerProject: "rules",
    shootName: shoot,
    shootNamespace: `shoot--rules--${shoot}`,
    managementLif: "10.150.0.10",
    dataLifs: ["10.150.0.11"],
  });
}

async function account(svmUuid: string, name: string, password: string) {
  return admin.rest("POST", "/api/security/accounts", {
    body: {
      name,
      owner: { uuid: svmUuid },
      role: { name: "vsadmin" },
      applications: [{ application: "http", authentication_methods: ["password"] }],
      password,
    },
  });
}

describe("password rules", () => {
  it("the simulator refuses passwords that break the role's rules or contain the user name, naming the rule", async () => {
    const svm = await admin.createSvmDirect({ name: "prules1" });
    const cases: Array<[string, string, RegExp]> = [
      ["u1", "Short-1", /passwd-minlength/],
      ["u2", "NoSpecialChars1234", /passwd-min-special-chars/],
      ["u3", "No-Digits-At-All", /passwd-min-digits/],
      ["shooty", "my-shooty-Passw0rd", /must not contain the user name/],
    ];
    for (const [name, password, rule] of cases) {
      const res = await account(svm.uuid, name, password);
      expect(res.status, name).toBe(400);
      expect(res.body.error).toMatchObject({ code: "2", target: "password" });
      expect(res.body.error?.message).toMatch(rule);
      expect(res.text).not.toContain(password);
    }
    expect((await account(svm.uuid, "u5", "Long-Enough-1")).status).toBe(201);
  });

  it("generated passwords pass the configured rules; a refusal for a rule is a permanent error naming it", async () => {
    const svm = await admin.createSvmDirect({ name: "prules2" });
    const kube = createFakeKubeClient();
    const client = createOntapClient(sim.clusters[0]!);
    try {
      const okPlan = plan("shoot-ok");
      // Stand-in for the LIF check (tested in credentials-verification.test.ts): the promoted password is the live one.
      const promoted = async (_name: string, password: string) =>
        decodeCredentials(await kube.get<SecretObject>(Secrets, okPlan.secret.namespace, okPlan.secret.name)).password === password
          ? ({ result: "ok", at: "management LIF" } as const)
          : ({ result: "wrong", at: "management LIF" } as const);
      const ok = await ensureCredentials(
        { kube, ontap: client, passwordRules: DEFAULT_PASSWORD_RULES, verify: promoted },
        okPlan,
        { uuid: svm.uuid, name: svm.name, state: "running" },
      );
      expect(ok.outcome).toBe("rotated");
      // Controller rules laxer than the role's (length 10 < the role's 12): ONTAP refuses, the error says why.
      const lax = { ...DEFAULT_PASSWORD_RULES, length: 10, minLength: 8 };
      const p = plan("shoot-lax");
      const err = await ensureCredentials(
        { kube, ontap: client, passwordRules: lax, verify: async () => ({ result: "wrong", at: "management LIF" }) },
        p,
        { uuid: svm.uuid, name: svm.name, state: "running" },
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ExtensionError);
      expect((err as ExtensionError).retriable).toBe(false);
      expect((err as ExtensionError).codes).toEqual(["ERR_CONFIGURATION_PROBLEM"]);
      expect((err as ExtensionError).message).toMatch(/refused the generated password of SVM user rules--shoot-lax.*passwd-minlength.*passwordRules/);
      // The password was stored (pending) before ONTAP saw it, and is not in the message.
      const secret = await kube.get<SecretObject>(Secrets, p.secret.namespace, p.secret.name);
      const pending = decodeCredentials(secret).pendingPassword!;
      expect(pending).toHaveLength(10);
      expect((err as Error).message).not.toContain(pending);
    } finally {
      await client.close();
    }
  });
});
