import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, REDACTED, redactSecrets } from "../../src/log.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      cb();
    },
  });
  return { lines, logger: createLogger({ stream, level: "debug" }) };
}

const SECRETS = ["hunter2-password", "pending-9f8e7d", "tok-abc123", "Bearer eyJhbGci", "c3RyaW5nZGF0YQ==", "YmFzZTY0cHc="];

describe("logger redaction", () => {
  it("a logged object with password fields at any depth shows none of the values", () => {
    const { lines, logger } = capture();
    logger.info(
      {
        password: SECRETS[0],
        account: { name: "svm-user", pendingPassword: SECRETS[1] },
        request: { headers: { Authorization: SECRETS[3] }, body: { deep: { deeper: { token: SECRETS[2] } } } },
        secret: { kind: "Secret", metadata: { name: "creds" }, data: { password: SECRETS[5] }, stringData: { x: SECRETS[4] } },
        list: [{ password: SECRETS[0] }],
      },
      "reconciled",
    );
    expect(lines).toHaveLength(1);
    for (const s of SECRETS) expect(lines[0]).not.toContain(s);
    const parsed = JSON.parse(lines[0]!);
    expect(parsed.password).toBe(REDACTED);
    expect(parsed.account.name).toBe("svm-user");
    expect(parsed.account.pendingPassword).toBe(REDACTED);
    expect(parsed.request.body.deep.deeper.token).toBe(REDACTED);
    expect(parsed.secret.metadata.name).toBe("creds");
    expect(parsed.secret.data).toBe(REDACTED);
    expect(parsed.msg).toBe("reconciled");
  });

  it("redacts properties attached to a logged error and to its cause", () => {
    const { lines, logger } = capture();
    const cause = Object.assign(new Error("inner"), { token: SECRETS[2] });
    const err = Object.assign(new Error("create failed", { cause }), { body: { password: SECRETS[0] }, code: "E1" });
    logger.error({ err }, "boom");
    logger.error(err);
    for (const line of lines) for (const s of SECRETS) expect(line).not.toContain(s);
    const parsed = JSON.parse(lines[0]!);
    expect(parsed.err.type).toBe("Error");
    expect(parsed.err.message).toBe("create failed");
    expect(parsed.err.code).toBe("E1");
    expect(parsed.err.body.password).toBe(REDACTED);
  });

  it("redacts child logger bindings", () => {
    const { lines, logger } = capture();
    logger.child({ password: SECRETS[0], shoot: "s1" }).info("hello");
    expect(lines[0]).not.toContain(SECRETS[0]);
    expect(JSON.parse(lines[0]!).shoot).toBe("s1");
  });

  it("writes JSON lines with a level name and a timestamp", () => {
    const { lines, logger } = capture();
    logger.warn({ n: 1 }, "x");
    const parsed = JSON.parse(lines[0]!);
    expect(parsed.level).toBe("warn");
    expect(typeof parsed.time).toBe("string");
  });

  it("redactSecrets leaves the input untouched, survives cycles, and matches keys case-insensitively", () => {
    const input: Record<string, unknown> = { PASSWORD: "a", nested: { Token: "b", keep: "c" } };
    input["self"] = input;
    const out = redactSecrets(input) as Record<string, unknown>;
    expect(out["PASSWORD"]).toBe(REDACTED);
    expect((out["nested"] as Record<string, unknown>)["Token"]).toBe(REDACTED);
    expect((out["nested"] as Record<string, unknown>)["keep"]).toBe("c");
    expect(out["self"]).toBe("[Circular]");
    expect(input["PASSWORD"]).toBe("a");
  });

  it("writes to a file destination", async () => {
    const { mkdtempSync, readFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "log-"));
    const file = join(dir, "sub", "out.log");
    const logger = createLogger({ destination: file });
    logger.info({ password: SECRETS[0] }, "to file");
    logger.flush();
    const text = readFileSync(file, "utf8");
    expect(text).toContain("to file");
    expect(text).not.toContain(SECRETS[0]);
  });
});
