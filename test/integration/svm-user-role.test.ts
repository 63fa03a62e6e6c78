import { describe, expect, it } from "vitest";
import { Extensions } from "../../src/kube/resources.js";
import { TRIDENT_ROLE_PRIVILEGES } from "../../src/ontap-extension/trident-role.js";
import type { FaultRuleSpec } from "../../src/faults/rules.js";
import { usernameFor } from "../support/invariants.js";
import { type Shoot, type World, worldPerFile } from "../support/world.js";

/**
 * providerConfig `svmUserRole`: the shoot's SVM user on NetApp's least-privilege REST role for Trident instead of
 * vsadmin, through one shoot's life on the simulator: made with the role, every drift of the role repaired, a
 * fault at each new call converging, switched to vsadmin and back, gone with the SVM. One world for the file.
 * The stand-in resource manager: this file observes ONTAP only; the shoot's ManagedResources are the same with
 * either role (the Secret carries user and password, not the role) and their delivery is shoot-e2e's to prove.
 */
describe("svmUserRole: the shoot user's role on ONTAP", () => {
  const opened = worldPerFile({ clusters: 1, resourceManager: "stand-in" });
  let shoot: Shoot;
  const world = (): World => opened();
  const admin = () => world().admins[0]!;
  const svmName = () => `p${shoot.projectId.replaceAll("-", "")}`;
  const svmUuid = async () => String((await admin().state()).svms.find((s) => s.name === svmName())!.uuid);
  const sortedTuples = (list: ReadonlyArray<{ path: unknown; access: unknown }>) =>
    list.map((p) => `${String(p.path)}=${String(p.access)}`).sort();
  const WANT = sortedTuples(TRIDENT_ROLE_PRIVILEGES);

  /** The role's tuples on the SVM (undefined: no role) and the user's role. */
  async function onOntap(): Promise<{ tuples?: string[]; accountRole?: string }> {
    const state = await admin().state();
    const svm = state.svms.find((s) => s.name === svmName());
    const role = state.roles.find((r) => (r.owner as { uuid: string }).uuid === svm?.uuid && r.name === "trident");
    const account = state.accounts.find((a) => a.name === usernameFor(shoot.namespace));
    return {
      ...(role ? { tuples: sortedTuples(role.privileges as Array<{ path: string; access: string }>) } : {}),
      ...(account ? { accountRole: (account.role as { name: string }).name } : {}),
    };
  }

  const setRole = (svmUserRole: string | undefined) =>
    world().kube.mergePatch(Extensions, shoot.namespace, shoot.extensionName, { spec: { providerConfig: { svmUserRole: svmUserRole ?? null } } });

  it("creates the role with NetApp's tuples before the user, and the user on it", async () => {
    shoot = await world().createShoot({
      project: "role",
      dataLifs: ["10.61.0.11"],
      managementLif: "10.61.0.10",
      providerConfig: { svmIpaddresses: { managementLif: "10.61.0.10", dataLifs: ["10.61.0.11"] }, svmUserRole: "trident" },
    });
    const ext = await world().waitSucceeded(shoot);
    expect(await onOntap()).toEqual({ tuples: WANT, accountRole: "trident" });
    expect(ext.status?.providerStatus?.svmUserRole).toBe("trident");
    // The user's stored password is proven at the management LIF under the role (it grants GET /api/svm/svms).
    const verified = ext.status?.conditions?.find((c) => c.type === "CredentialsVerified");
    expect(verified?.status).toBe("True");
  });

  it("puts the role back to exactly its tuples: a missing, a changed and an extra tuple", async () => {
    const uuid = await svmUuid();
    const tuple = (path: string) => `/api/security/roles/${uuid}/trident/privileges/${encodeURIComponent(path)}`;
    expect((await admin().rest("DELETE", tuple("/api/storage/namespaces"))).status).toBe(200);
    expect((await admin().rest("PATCH", tuple("/api/cluster"), { body: { access: "all" } })).status).toBe(200);
    expect((await admin().rest("POST", `/api/security/roles/${uuid}/trident/privileges`, { body: { path: "/api/security/accounts", access: "all" } })).status).toBe(201);
    await world().reconcileNow(shoot);
    expect(await onOntap()).toEqual({ tuples: WANT, accountRole: "trident" });
  });

  // Each call the role adds, failing while it is needed: the reconcile fails, and converges once ONTAP answers.
  const uuidPath = "[0-9a-f-]+";
  const cases: Array<[string, FaultRuleSpec, (uuid: string) => Promise<void>]> = [
    ["GET the role", { method: "GET", path: `^/api/security/roles/${uuidPath}/trident$`, action: { type: "error", status: 500 } }, async () => {}],
    [
      "POST a missing tuple",
      { method: "POST", path: "/privileges$", action: { type: "error", status: 500 } },
      async (uuid) => void (await admin().rest("DELETE", `/api/security/roles/${uuid}/trident/privileges/${encodeURIComponent("/api/svm/svms")}`)),
    ],
    [
      "PATCH a changed tuple",
      { method: "PATCH", path: "/privileges/", action: { type: "error", status: 500 } },
      async (uuid) => void (await admin().rest("PATCH", `/api/security/roles/${uuid}/trident/privileges/${encodeURIComponent("/api/svm/svms")}`, { body: { access: "none" } })),
    ],
    [
      "DELETE an extra tuple",
      { method: "DELETE", path: "/privileges/", action: { type: "reset" } },
      async (uuid) => void (await admin().rest("POST", `/api/security/roles/${uuid}/trident/privileges`, { body: { path: "/api/security/accounts", access: "all" } })),
    ],
    [
      "PATCH the account's role",
      { method: "PATCH", path: "^/api/security/accounts/", action: { type: "error", status: 500 } },
      async (uuid) => void (await admin().rest("PATCH", `/api/security/accounts/${uuid}/${usernameFor(shoot.namespace)}`, { body: { role: { name: "vsadmin" } } })),
    ],
    [
      "POST the role (removed by hand), its answer lost",
      { method: "POST", path: "^/api/security/roles$", count: 1, action: { type: "applyThenFail", status: 500 } },
      async (uuid) => {
        await admin().rest("PATCH", `/api/security/accounts/${uuid}/${usernameFor(shoot.namespace)}`, { body: { role: { name: "vsadmin" } } });
        expect((await admin().rest("DELETE", `/api/security/roles/${uuid}/trident`)).status).toBe(200);
      },
    ],
  ];
  it.each(cases)("a fault at %s: fails or retries, then converges", async (_what, fault, breakIt) => {
    const uuid = await svmUuid();
    await breakIt(uuid);
    await admin().addFault({ count: 1_000, ...fault });
    if (fault.action.type !== "applyThenFail") {
      await world().annotate(shoot, { "gardener.cloud/operation": "reconcile" });
      await world().waitFor(shoot, (e) => e.status?.lastOperation?.state === "Error", 60_000, "Error while ONTAP fails the call");
    }
    await admin().clearFaults();
    await world().reconcileNow(shoot, 60_000);
    expect(await onOntap()).toEqual({ tuples: WANT, accountRole: "trident" });
  });

  it("switches the user to vsadmin and back; the role stays on the SVM for the project's other shoots", async () => {
    await setRole("vsadmin");
    let ext = await world().reconcileNow(shoot);
    expect(await onOntap()).toEqual({ tuples: WANT, accountRole: "vsadmin" });
    expect(ext.status?.providerStatus?.svmUserRole).toBe("vsadmin");
    await setRole("trident");
    await world().reconcileNow(shoot);
    expect((await onOntap()).accountRole).toBe("trident");
    // Left out is the default, vsadmin: the switch back happens the same way.
    await setRole(undefined);
    ext = await world().reconcileNow(shoot);
    expect((await onOntap()).accountRole).toBe("vsadmin");
    expect(ext.status?.providerStatus?.svmUserRole).toBe("vsadmin");
  });

  it("the role goes with the SVM when the last shoot is deleted", async () => {
    await world().deleteShoot(shoot);
    await world().waitGone(shoot);
    expect((await admin().state()).roles).toEqual([]);
  });
});
