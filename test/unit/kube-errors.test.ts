import { describe, expect, it } from "vitest";
import { isAlreadyExists, isConflict, isNotFound, KubeError, reasonFor, scrubServerMessage } from "../../src/kube/errors.js";

describe("KubeError", () => {
  it("maps API server Status reasons before status codes", () => {
    expect(reasonFor(409, "AlreadyExists")).toBe("AlreadyExists");
    expect(reasonFor(409, "Conflict")).toBe("Conflict");
    expect(reasonFor(409)).toBe("Conflict");
    expect(reasonFor(410, "Expired")).toBe("Gone");
    expect(reasonFor(500, "InternalError")).toBe("ServerError");
    expect(reasonFor(504, "Timeout")).toBe("Timeout");
    expect(reasonFor(503)).toBe("ServerError");
    expect(reasonFor(422)).toBe("Invalid");
    expect(reasonFor(429)).toBe("TooManyRequests");
    expect(reasonFor(418)).toBe("Unknown");
    expect(reasonFor(undefined)).toBe("Unknown");
  });

  it("is transient exactly for transport failures, 5xx, 429 and timeouts", () => {
    const make = (reason: KubeError["reason"]) => new KubeError({ reason, verb: "get", resource: "secrets" });
    for (const r of ["ServerError", "TooManyRequests", "Timeout", "Transport"] as const) expect(make(r).transient).toBe(true);
    for (const r of ["NotFound", "Conflict", "AlreadyExists", "Forbidden", "Unauthorized", "Invalid", "Gone", "Unknown"] as const) {
      expect(make(r).transient).toBe(false);
    }
  });

  it("names verb, resource and object, and carries a stable code", () => {
    const err = new KubeError({
      reason: "AlreadyExists",
      status: 409,
      verb: "create",
      resource: "secrets",
      namespace: "shoot--p--s",
      name: "creds",
      serverMessage: 'secrets "creds" already exists',
    });
    expect(err.message).toBe('create secrets shoot--p--s/creds failed: AlreadyExists (HTTP 409): secrets "creds" already exists');
    expect(err.code).toBe("KUBE_ALREADY_EXISTS");
    expect(err.name).toBe("KubeError");
    expect(err.objectName).toBe("creds");
    expect(isAlreadyExists(err)).toBe(true);
    expect(isConflict(err)).toBe(false);
    expect(isNotFound(new Error("x"))).toBe(false);
  });

  it("drops quoted invalid values from server messages, so a rejected Secret value is never repeated", () => {
    const msg = 'Secret "s" is invalid: data[password]: Invalid value: "hunter2 with \\"quotes\\"": must be valid';
    const scrubbed = scrubServerMessage(msg);
    expect(scrubbed).not.toContain("hunter2");
    expect(scrubbed).toContain("data[password]: Invalid value: [value omitted]: must be valid");
    expect(scrubServerMessage("x".repeat(1000)).length).toBeLessThan(420);
  });
});
