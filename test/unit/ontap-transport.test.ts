import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOntapClient, isOntapError, type OntapError } from "../../src/ontap/index.js";

/**
 * Wire behaviour the simulator does not exercise on purpose: content types, odd 2xx answers, non-JSON error
 * pages, hostile pagination links, an error body that echoes a password. A tiny HTTPS server answers exactly
 * what each test scripts. The key pair below exists only for this test (CN and SAN 127.0.0.1, made with openssl).
 */

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let server: Server;
let url: string;
let handler: Handler = (_req, res) => res.end();
const seen: { method: string; path: string; authorization?: string; body: string }[] = [];
const PASSWORD = "Transport-Admin-Passw0rd";

beforeAll(async () => {
  server = createServer({ key: SERVER_KEY, cert: SERVER_CERT }, (req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      seen.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client(timeoutMs = 2_000) {
  return createOntapClient(
    { name: "t1", url, username: "admin", password: PASSWORD, ca: TEST_CA, timeoutMs },
    { retry: { baseMs: 1, capMs: 2, maxAttempts: 3 } },
  );
}

function json(res: ServerResponse, status: number, body: unknown, contentType = "application/json") {
  res.writeHead(status, { "content-type": contentType });
  res.end(JSON.stringify(body));
}

async function caught(promise: Promise<unknown>): Promise<OntapError> {
  try {
    await promise;
  } catch (err) {
    if (isOntapError(err)) return err;
    throw err;
  }
  throw new Error("expected an OntapError");
}

describe("transport over HTTPS", () => {
  it("parses application/hal+json as JSON and sends basic auth", async () => {
    seen.length = 0;
    handler = (_req, res) =>
      json(res, 200, { name: "t1", uuid: "u", version: { full: "NetApp Release 9.15.1", generation: 9, major: 15, minor: 1 } }, "application/hal+json; charset=utf-8");
    const c = client();
    expect(await c.getCluster()).toEqual({ name: "t1", uuid: "u", version: "9.15.1" });
    expect(seen[0]?.authorization).toBe(`Basic ${Buffer.from(`admin:${PASSWORD}`).toString("base64")}`);
    expect(seen[0]?.path).toBe("/api/cluster?fields=name,uuid,version");
    await c.close();
  });

  it("accepts any 2xx as success, including 200 and 204 where 201 might be expected", async () => {
    const c = client();
    handler = (_req, res) => json(res, 200, {});
    await c.changePassword({ svmName: "p1", name: "u1", password: "Whatever-Passw0rd" });
    handler = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    await c.patchInterface("lif-1", { ipAddress: "10.0.0.1", netmask: "24" });
    await c.close();
  });

  it("sends the documented bodies for creates", async () => {
    seen.length = 0;
    handler = (_req, res) => json(res, 202, { job: { uuid: "job-1", _links: { self: { href: "/api/cluster/jobs/job-1" } } } });
    const c = client();
    expect(await c.createSvm({ name: "p1", aggregateUuids: ["ag-1"] })).toEqual({ job: { uuid: "job-1" } });
    expect(JSON.parse(seen[0]!.body)).toEqual({ name: "p1", aggregates: [{ uuid: "ag-1" }], nvme: { enabled: true, allowed: true } });
    expect(seen[0]?.path).toBe("/api/svm/svms");
    await c.close();
  });

  it("reports a proxy's non-JSON 502 page as a transient HTTP error with a short message", async () => {
    handler = (_req, res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<html><body>Bad gateway</body></html>");
    };
    const c = client();
    const err = await caught(c.getCluster());
    expect(err).toMatchObject({ kind: "http", status: 502, transient: true });
    expect(err.message).toContain("Bad gateway");
    await c.close();
  });

  it("reports a 2xx answer of the wrong shape as a permanent invalid-response", async () => {
    handler = (_req, res) => json(res, 200, { records: [{ uuid: 42 }] });
    const c = client();
    const err = await caught(c.listNodes());
    expect(err).toMatchObject({ kind: "invalid-response", transient: false, endpoint: "/api/cluster/nodes" });
    expect(err.message).toMatch(/invalid response: records\.0\.uuid/);
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{not json");
    };
    expect((await caught(c.getCluster())).kind).toBe("invalid-response");
    await c.close();
  });

  it("refuses to follow a next link to another host, so the Authorization header never leaves", async () => {
    seen.length = 0;
    handler = (_req, res) =>
      json(res, 200, { records: [{ uuid: "n1", name: "node1" }], num_records: 1, _links: { next: { href: "https://attacker.example/api/cluster/nodes?p=2" } } });
    const c = client();
    const err = await caught(c.listNodes());
    expect(err.kind).toBe("invalid-response");
    expect(seen).toHaveLength(1);
    await c.close();
  });

  it("scrubs a new password that an error answer echoes back", async () => {
    const newPassword = "Brand-New-Passw0rd-77";
    handler = (_req, res, body) =>
      json(res, 400, { error: { message: `password ${JSON.parse(body).password} rejected for admin:${PASSWORD}`, code: "7077897" } });
    const c = client();
    const err = await caught(c.changePassword({ svmName: "p1", name: "u1", password: newPassword }));
    const dump = `${err.message}\n${inspect(err, { depth: 10, showHidden: true })}`;
    expect(dump).not.toContain(newPassword);
    expect(dump).not.toContain(PASSWORD);
    expect(err.code).toBe("7077897");
    await c.close();
  });

  it("rejects with the caller's abort reason and does not retry", async () => {
    seen.length = 0;
    const controller = new AbortController();
    // Abort once the request has reached the server (never answered), not after a fixed delay: on a loaded
    // machine a timer could fire before the request is even sent, and the test would prove nothing.
    handler = () => controller.abort(new Error("reconcile cancelled"));
    const c = client(5_000);
    await expect(c.getCluster({ signal: controller.signal })).rejects.toThrow("reconcile cancelled");
    expect(seen).toHaveLength(1);
    server.closeAllConnections();
    await c.close();
  });

  it("refuses a plain-http URL and a missing CA file with messages that name the cluster", () => {
    expect(() => createOntapClient({ name: "t2", url: "http://127.0.0.1:1", username: "a", password: PASSWORD })).toThrow(
      /ONTAP t2: url must use https/,
    );
    expect(() =>
      createOntapClient({ name: "t2", url, username: "a", password: PASSWORD, caFile: "/nonexistent/ca.pem" }),
    ).toThrow(/ONTAP t2: cannot read caFile \/nonexistent\/ca.pem \(ENOENT\)/);
  });
});

const TEST_CA = `-----BEGIN CERTIFICATE-----
MIIBqzCCAVGgAwIBAgIUMCC7e5xBNBjwM1onifojGXZ0IR8wCgYIKoZIzj0EAwIw
IjEgMB4GA1UEAwwXb250YXAgdHJhbnNwb3J0IHRlc3QgQ0EwIBcNMjYxMTI1MTg0
MzI4WhgPMjEyNjExMDExODQzMjhaMCIxIDAeBgNVBAMMF29udGFwIHRyYW5zcG9y
dCB0ZXN0IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEiO2eqtaDPt1Z0OU5
ygHNMtr+WIJf3SXsY4kduDrCP6dT71mOWVXI3HUbTb+O2+uR9iKw1d++QvlgmzjP
EuNKtqNjMGEwHQYDVR0OBBYEFE5wJpXvgdtlpTH7eLEC2DZRY9HTMB8GA1UdIwQY
MBaAFE5wJpXvgdtlpTH7eLEC2DZRY9HTMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0P
AQH/BAQDAgIEMAoGCCqGSM49BAMCA0gAMEUCIQDOniy2fnJLl1/hfjjR180MWBNz
KgJv13s4UXgZsse65wIgDtaSlVlHXAP2zGxVFFRbLq3Rga332R0BncCGYIpDCqw=
-----END CERTIFICATE-----`;

const SERVER_CERT = `-----BEGIN CERTIFICATE-----
MIIBrTCCAVOgAwIBAgIUcF3IIRcNVmKzBgQ03IOMZGGg03QwCgYIKoZIzj0EAwIw
IjEgMB4GA1UEAwwXb250YXAgdHJhbnNwb3J0IHRlc3QgQ0EwIBcNMjYxMTI1MTg0
MzI4WhgPMjEyNjExMDExODQzMjhaMBQxEjAQBgNVBAMMCTEyNy4wLjAuMTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABI3z6EMZTcAb52KXLx4Xlh4ThToODN8h744/
1dxpFO8o+HQkIQKPLnzLmWZGtSUm4mBi+wwgXKFzGjEWDbNEVd2jczBxMA8GA1Ud
EQQIMAaHBH8AAAEwCQYDVR0TBAIwADATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNV
HQ4EFgQUwafDO79fso7l2XogC2nlstqMLxowHwYDVR0jBBgwFoAUTnAmle+B22Wl
Mft4sQLYNlFj0dMwCgYIKoZIzj0EAwIDSAAwRQIhAJNQ9cOxLl4trF4z7J/jO6RH
R36FE8EzHq00uDEhpauCAiAEm554PZJ6whiITRM9OIAJFIWuYTH16wqw0xggERXV
Qg==
-----END CERTIFICATE-----`;

const SERVER_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg5c/4LrLmiNP0ZsO+
rB1h7Jr7DN6sHy4jDnT1zohS05KhRANCAASN8+hDGU3AG+dily8eF5YeE4U6Dgzf
Ie+OP9XcaRTvKPh0JCECjy58y5lmRrUlJuJgYvsMIFyhcxoxFg2zRFXd
-----END PRIVATE KEY-----`;
