import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import {
  connectionError,
  httpError,
  isTransientHttp,
  OntapError,
  type RequestContext,
  redact,
  timeoutError,
} from "../../src/ontap/errors.js";

const PASSWORD = "s3cret-Passw0rd";
const ctx: RequestContext = {
  cluster: "sim-1",
  operation: "create SVM p123",
  method: "POST",
  endpoint: "/api/svm/svms",
  secrets: [PASSWORD, Buffer.from(`admin:${PASSWORD}`).toString("base64")],
};

function sysError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe("httpError", () => {
  it("builds the message from cluster, operation, status, ONTAP code, message and target", () => {
    const err = httpError(ctx, 400, { error: { message: "duplicate name", code: "13434908", target: "name" } });
    expect(err).toBeInstanceOf(OntapError);
    expect(err.message).toBe("ONTAP sim-1: create SVM p123 failed: 400 13434908 duplicate name (target name)");
    expect(err).toMatchObject({
      cluster: "sim-1",
      operation: "create SVM p123",
      method: "POST",
      endpoint: "/api/svm/svms",
      status: 400,
      code: "13434908",
      target: "name",
      kind: "http",
      transient: false,
    });
  });

  it("classifies 5xx as transient and 4xx (400, 401, 403, 404, 409) as permanent", () => {
    for (const status of [500, 502, 503, 504]) expect(httpError(ctx, status, undefined).transient).toBe(true);
    for (const status of [400, 401, 403, 404, 409]) expect(httpError(ctx, status, undefined).transient).toBe(false);
  });

  it("treats the wait-and-retry codes as transient whatever the status", () => {
    for (const code of ["13434889", "13434894", "13434916", "1967102"]) {
      expect(httpError(ctx, 400, { error: { code, message: "wait" } }).transient).toBe(true);
      expect(isTransientHttp(409, code)).toBe(true);
    }
    expect(isTransientHttp(400, "13434908")).toBe(false);
  });

  it("accepts a numeric ONTAP code and a body that is not an ONTAP envelope", () => {
    expect(httpError(ctx, 500, { error: { code: 13434889 } }).code).toBe("13434889");
    const bare = httpError(ctx, 502, "<html>bad gateway</html>");
    expect(bare.message).toBe("ONTAP sim-1: create SVM p123 failed: 502 Bad Gateway");
    expect(bare.code).toBeUndefined();
  });

  it("scrubs a password that ONTAP echoes back in its message", () => {
    const err = httpError(ctx, 400, { error: { message: `password "${PASSWORD}" is too weak`, code: "1" } });
    expect(err.message).not.toContain(PASSWORD);
    expect(inspect(err, { depth: 10 })).not.toContain(PASSWORD);
    expect(err.message).toContain("***");
  });
});

describe("connectionError", () => {
  it("treats resets, refusals and closed sockets as transient connection errors", () => {
    for (const code of ["ECONNRESET", "ECONNREFUSED", "EPIPE", "UND_ERR_SOCKET", "EHOSTUNREACH"]) {
      const err = connectionError(ctx, sysError(code, "x"));
      expect(err.kind).toBe("connection");
      expect(err.transient).toBe(true);
      expect(err.code).toBe(code);
    }
  });

  it("finds the OS code under undici's wrapper", () => {
    const wrapped = Object.assign(new Error("other side closed"), {
      code: "UND_ERR_SOCKET",
      cause: sysError("ECONNRESET", "read ECONNRESET"),
    });
    expect(connectionError(ctx, wrapped).code).toBe("ECONNRESET");
  });

  it("treats connect/headers/body timeouts as transient timeouts", () => {
    for (const code of ["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]) {
      const err = connectionError(ctx, sysError(code, "slow"));
      expect(err.kind).toBe("timeout");
      expect(err.transient).toBe(true);
    }
  });

  it("treats TLS verification failures as permanent: the next attempt meets the same certificate", () => {
    for (const code of ["SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "ERR_TLS_CERT_ALTNAME_INVALID"]) {
      const err = connectionError(ctx, sysError(code, "bad cert"));
      expect(err.kind).toBe("connection");
      expect(err.transient).toBe(false);
      expect(err.message).toContain("TLS error");
    }
  });

  it("treats an unknown error as permanent so a bug is not retried", () => {
    expect(connectionError(ctx, new TypeError("undefined is not a function")).transient).toBe(false);
  });

  it("keeps code and message in the cause but drops everything else the low-level error carried", () => {
    const raw = Object.assign(sysError("ECONNRESET", "reset"), {
      headers: { authorization: `Basic ${ctx.secrets[1]}` },
      password: PASSWORD,
    });
    const err = connectionError(ctx, raw);
    const cause = err.cause as Error & { code?: string };
    expect(cause.message).toBe("reset");
    expect(cause.code).toBe("ECONNRESET");
    const dump = inspect(err, { depth: 10, showHidden: true });
    expect(dump).not.toContain(PASSWORD);
    expect(dump).not.toContain(ctx.secrets[1]);
  });
});

describe("timeoutError", () => {
  it("is a transient timeout that names the limit", () => {
    const err = timeoutError(ctx, 250);
    expect(err).toMatchObject({ kind: "timeout", transient: true });
    expect(err.message).toBe("ONTAP sim-1: create SVM p123 failed: timed out after 250 ms");
  });
});

describe("redact", () => {
  it("replaces every occurrence of every secret", () => {
    expect(redact(`a ${PASSWORD} b ${PASSWORD}`, [PASSWORD])).toBe("a *** b ***");
  });
  it("leaves text alone when there is nothing to hide", () => {
    expect(redact("plain", [])).toBe("plain");
  });
});
