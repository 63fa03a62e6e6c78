import { describe, expect, it } from "vitest";
import { userRow } from "../../src/diagnosis/checks/ontap-user.js";
import type { ShootObservation } from "../../src/diagnosis/observation.js";
import { decodeShootInputs, InputError } from "../../src/ontap-extension/inputs.js";
import { diffPrivileges, isEmptyDiff, privilegesOf, TRIDENT_ROLE_PRIVILEGES } from "../../src/ontap-extension/trident-role.js";

const cluster = { spec: { shoot: { metadata: { annotations: { "cluster.metal-stack.io/project": "0a1b2c3d-aaaa-bbbb-cccc-1234567890ab" } } } } };
const ext = (extra: Record<string, unknown>) => ({
  metadata: { namespace: "shoot--proj1--my-shoot" },
  spec: { providerConfig: { svmIpaddresses: { managementLif: "10.0.0.10", dataLifs: ["10.0.0.11"] }, ...extra } },
});

describe("the trident role's tuples", () => {
  it("are NetApp's REST role for Trident: 42 distinct paths with its access levels", () => {
    expect(TRIDENT_ROLE_PRIVILEGES).toHaveLength(42);
    expect(new Set(TRIDENT_ROLE_PRIVILEGES.map((p) => p.path)).size).toBe(42);
    const access = Object.fromEntries(TRIDENT_ROLE_PRIVILEGES.map((p) => [p.path, p.access]));
    expect(access).toMatchObject({
      "/api/cluster": "readonly",
      "/api/svm/svms": "readonly",
      "/api/storage/namespaces": "all",
      "/api/protocols/nvme/subsystems/hosts": "all",
      "/api/support/ems/application-logs": "read_create",
      "/api/snapmirror/relationships/transfers": "read_create_modify",
    });
    expect(privilegesOf("trident")).toBe(TRIDENT_ROLE_PRIVILEGES);
    expect(privilegesOf("vsadmin")).toBeUndefined();
  });
});

describe("diffPrivileges", () => {
  const want = [
    { path: "/api/cluster", access: "readonly" },
    { path: "/api/storage/volumes", access: "all" },
  ];
  it("is empty when the role holds exactly what is wanted, in any order", () => {
    expect(isEmptyDiff(diffPrivileges(want, [...want].reverse()))).toBe(true);
  });
  it("adds the missing, changes the wrong access, removes the extra", () => {
    const diff = diffPrivileges(want, [
      { path: "/api/cluster", access: "all" },
      { path: "/api/security/accounts", access: "all" },
    ]);
    expect(diff).toEqual({
      add: [{ path: "/api/storage/volumes", access: "all" }],
      change: [{ path: "/api/cluster", access: "readonly" }],
      remove: ["/api/security/accounts"],
    });
    expect(isEmptyDiff(diff)).toBe(false);
  });
});

describe("providerConfig svmUserRole", () => {
  it("defaults to nothing (vsadmin), takes trident, and refuses anything else naming the field and the choices", () => {
    expect(decodeShootInputs(ext({}), cluster).svmUserRole).toBeUndefined();
    expect(decodeShootInputs(ext({ svmUserRole: "trident" }), cluster).svmUserRole).toBe("trident");
    expect(decodeShootInputs(ext({ svmUserRole: "vsadmin" }), cluster).svmUserRole).toBe("vsadmin");
    expect(() => decodeShootInputs(ext({ svmUserRole: "admin" }), cluster)).toThrow(InputError);
    expect(() => decodeShootInputs(ext({ svmUserRole: "admin" }), cluster)).toThrow(/svmUserRole: must be vsadmin or trident/);
  });
});

describe("doctor's ONTAP user row", () => {
  const want = { svmName: "p1", username: "proj1--my-shoot", secret: { namespace: "n", name: "s" }, legacySecret: { namespace: "n", name: "l" }, lifs: [], managedResources: [] };
  const obs = (role: string) => ({ account: { ok: true, value: { found: true, role, locked: false } }, inspectedCluster: "c1" }) as unknown as ShootObservation;
  it("expects the chosen role and fails, repairable, on another one", () => {
    expect(userRow(obs("trident"), { ...want, svmUserRole: "trident" }, "reconcile")).toMatchObject({ expected: "trident on p1, unlocked", status: "ok" });
    expect(userRow(obs("vsadmin"), { ...want, svmUserRole: "trident" }, "reconcile")).toMatchObject({ status: "fail", repairable: true });
    expect(userRow(obs("vsadmin"), want, "reconcile")).toMatchObject({ expected: "vsadmin on p1, unlocked", status: "ok" });
  });
});
