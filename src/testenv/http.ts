import http from "node:http";
import https from "node:https";

/** One JSON request to a kube-apiserver with a bearer token, verified against its CA; the body as text. */
export function httpsRequest(
  method: string,
  url: string,
  auth: { token: string; ca: string },
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${auth.token}`, accept: "application/json" };
    if (payload !== undefined) headers["content-type"] = "application/json";
    const req = https.request(url, { method, ca: auth.ca, headers, timeout: 10_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(payload);
  });
}

/** The status code of a plain-HTTP GET (health probes on loopback). */
export function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}
