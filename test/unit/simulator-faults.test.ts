import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { SimAdmin, SimAdminError } from "../../src/simulator/admin-client.js";

let sim: RunningSimulator;
let admin: SimAdmin;

beforeAll(async () => {
  sim = await startSimulator({ jobMs: 20 });
  admin = new SimAdmin(sim.clusters[0]!);
});
afterAll(async () => {
  await admin.close();
  await sim.stop();
});
beforeEach(() => admin.reset());

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("REST fault actions", () => {
  it("error answers the status and the ONTAP code and message in the envelope, without applying the call", async () => {
    await admin.addFault({
      method: "POST",
      path: "^/api/svm/svms$",
      count: 1,
      action: { type: "error", status: 500, code: "13434889", message: "internal error" },
    });
    const failed = await admin.rest("POST", "/api/svm/svms", { body: { name: "p1" } });
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ error: { message: "internal error", code: "13434889" } });
    expect((await admin.state()).svms).toEqual([]);
    expect((await admin.rest("POST", "/api/svm/svms", { body: { name: "p1" } })).status).toBe(202);
  });

  it("delay holds the answer for the given time and then proceeds", async () => {
    await admin.addFault({ method: "GET", path: "^/api/cluster$", action: { type: "delay", ms: 250 } });
    const started = Date.now();
    const res = await admin.rest("GET", "/api/cluster");
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it("reset destroys the connection and the simulator keeps serving", async () => {
    await admin.addFault({ method: "GET", path: "^/api/cluster$", count: 1, action: { type: "reset" } });
    await expect(admin.rest("GET", "/api/cluster")).rejects.toThrow();
    expect((await admin.rest("GET", "/api/cluster")).status).toBe(200);
  });

  it("hang never answers, and the held request is released when the client gives up", async () => {
    await admin.addFault({ method: "GET", path: "^/api/svm/svms$", action: { type: "hang" } });
    const abort = new AbortController();
    const pending = admin.rest("GET", "/api/svm/svms", { signal: abort.signal });
    await waitUntil(async () => (await admin.listFaults()).hanging === 1);
    await new Promise((r) => setTimeout(r, 100));
    abort.abort();
    await expect(pending).rejects.toThrow();
    await waitUntil(async () => (await admin.listFaults()).hanging === 0);
    expect((await admin.rest("GET", "/api/cluster")).status).toBe(200);
  });

  it("applyThenFail performs the change and answers 500 with an ONTAP error", async () => {
    const svm = await admin.createSvmDirect({ name: "p1" });
    await admin.addFault({ method: "POST", path: "^/api/network/ip/interfaces$", count: 1, action: { type: "applyThenFail" } });
    const body = { name: "lif1", svm: { uuid: svm.uuid }, ip: { address: "10.0.0.1", netmask: 24 } };
    const res = await admin.rest("POST", "/api/network/ip/interfaces", { body });
    expect(res.status).toBe(500);
    expect(res.body.error?.code).toBe("1967102");
    expect((await admin.state()).interfaces.map((i) => i.name)).toEqual(["lif1"]);
    const retry = await admin.rest("POST", "/api/network/ip/interfaces", { body });
    expect(retry.body.error?.code).toBe("1966140");
  });

  it("applyThenFail answers the rule's status when it names one", async () => {
    await admin.addFault({ method: "POST", path: "^/api/svm/svms$", action: { type: "applyThenFail", status: 504 } });
    const res = await admin.rest("POST", "/api/svm/svms", { body: { name: "p1" } });
    expect(res.status).toBe(504);
    expect((await admin.state()).svms.map((s) => s.name)).toEqual(["p1"]);
  });

  it("does not touch /__sim calls even when a rule matches every path", async () => {
    await admin.addFault({ path: ".", action: { type: "error", status: 503 } });
    expect((await admin.rest("GET", "/api/cluster")).status).toBe(503);
    expect((await admin.state()).cluster.name).toBe("sim-1");
  });

  it("adds latencyMs to every REST call", async () => {
    const slow = await startSimulator({ latencyMs: 150 });
    const slowAdmin = new SimAdmin(slow.clusters[0]!);
    try {
      const started = Date.now();
      expect((await slowAdmin.rest("GET", "/api/cluster")).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      await slowAdmin.close();
      await slow.stop();
    }
  });
});

describe("job faults", () => {
  it("a JOB rule makes the next matching job fail with its code and message, and the failed create leaves no SVM", async () => {
    await admin.addFault({
      method: "JOB",
      path: "^POST /api/svm/svms$",
      count: 1,
      action: { type: "error", status: 500, code: "13434914", message: "not enough space for the root volume" },
    });
    const res = await admin.rest("POST", "/api/svm/svms", { body: { name: "p1" } });
    expect(res.status).toBe(202);
    const job = await admin.waitForJob(res.body.job!.uuid);
    expect(job).toMatchObject({ state: "failure", code: 13434914, message: "not enough space for the root volume" });
    expect((await admin.state()).svms).toEqual([]);
    const again = await admin.rest("POST", "/api/svm/svms", { body: { name: "p1" } });
    expect((await admin.waitForJob(again.body.job!.uuid)).state).toBe("success");
  });

  it("a failed job is answered as an error when the caller waits with return_timeout", async () => {
    await admin.addFault({ method: "JOB", path: "^POST /api/svm/svms$", action: { type: "error", status: 500, code: "13434889" } });
    const res = await admin.rest("POST", "/api/svm/svms?return_timeout=5", { body: { name: "p1" } });
    expect(res.status).toBe(500);
    expect(res.body.error?.code).toBe("13434889");
  });

  it("a rule on the jobs path fails the GET, not the job", async () => {
    await admin.addFault({ method: "GET", path: "^/api/cluster/jobs/", count: 1, action: { type: "error", status: 503 } });
    const res = await admin.rest("POST", "/api/svm/svms", { body: { name: "p1" } });
    expect((await admin.rest("GET", `/api/cluster/jobs/${res.body.job!.uuid}`)).status).toBe(503);
    expect((await admin.waitForJob(res.body.job!.uuid)).state).toBe("success");
  });

  it("applyThenFail on a job creates the SVM but reports the job as failed", async () => {
    await admin.addFault({ method: "JOB", path: "^POST /api/svm/svms$", action: { type: "applyThenFail" } });
    const res = await admin.rest("POST", "/api/svm/svms", { body: { name: "p1" } });
    expect((await admin.waitForJob(res.body.job!.uuid)).state).toBe("failure");
    expect((await admin.state()).svms).toEqual([expect.objectContaining({ name: "p1", state: "running" })]);
  });

  it("a failed delete job leaves the SVM running; a hung job stays running", async () => {
    const svm = await admin.createSvmDirect({ name: "p1" });
    await admin.addFault({ method: "JOB", path: "^DELETE /api/svm/svms/", count: 1, action: { type: "error", status: 500 } });
    const del = await admin.rest("DELETE", `/api/svm/svms/${svm.uuid}`);
    expect((await admin.waitForJob(del.body.job!.uuid)).state).toBe("failure");
    expect((await admin.rest("GET", `/api/svm/svms/${svm.uuid}?fields=state`)).body.state).toBe("running");
    await admin.addFault({ method: "JOB", path: "^DELETE /api/svm/svms/", action: { type: "hang" } });
    const hung = await admin.rest("DELETE", `/api/svm/svms/${svm.uuid}`);
    await new Promise((r) => setTimeout(r, 100));
    expect((await admin.rest("GET", `/api/cluster/jobs/${hung.body.job!.uuid}`)).body.state).toBe("running");
    expect((await admin.rest("GET", `/api/svm/svms/${svm.uuid}?fields=state`)).body.state).toBe("deleting");
  });
});

describe("rule bookkeeping and call counts", () => {
  it("fires on the nth call only and reports matched and hits", async () => {
    const id = await admin.addFault({ method: "GET", path: "^/api/cluster$", nth: 2, action: { type: "error", status: 500 } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await admin.rest("GET", "/api/cluster")).status);
    expect(statuses).toEqual([200, 500, 200]);
    const { rules } = await admin.listFaults();
    expect(rules).toEqual([expect.objectContaining({ id, matched: 3, hits: 1 })]);
  });

  it("removes one rule by id, all rules at once, and answers 404 for an unknown id", async () => {
    const a = await admin.addFault({ path: "^/api/cluster$", action: { type: "error", status: 500 } });
    const b = await admin.addFault({ method: "JOB", path: "^POST", action: { type: "hang" } });
    expect(b).toMatch(/^job-/);
    await admin.removeFault(a);
    expect((await admin.listFaults()).rules.map((r) => r.id)).toEqual([b]);
    await expect(admin.removeFault(a)).rejects.toMatchObject({ status: 404 });
    await admin.clearFaults();
    expect((await admin.listFaults()).rules).toEqual([]);
    expect((await admin.rest("GET", "/api/cluster")).status).toBe(200);
  });

  it("refuses an invalid rule with 400 naming the field", async () => {
    const cases: Array<[unknown, string]> = [
      [{ path: "(", action: { type: "reset" } }, "path"],
      [{ path: "x", action: { type: "error", status: 200 } }, "action.status"],
      [{ path: "x", action: { type: "explode" } }, "action.type"],
      [{ path: "x", action: { type: "reset" }, colour: "red" }, "colour"],
      [{ path: "x", cluster: "sim-9", action: { type: "reset" } }, "cluster"],
    ];
    for (const [rule, field] of cases) {
      const res = await admin.rest("POST", "/__sim/faults", { body: rule });
      expect(res.status, field).toBe(400);
      expect(res.body.error?.target, field).toBe(field);
      expect(res.body.error?.message, field).toContain(field);
    }
  });

  it("counts REST calls per method and path template, not admin calls", async () => {
    const svm = await admin.createSvmDirect({ name: "p1" });
    await admin.rest("GET", "/api/svm/svms?name=p1");
    await admin.rest("GET", `/api/svm/svms/${svm.uuid}`);
    await admin.rest("GET", `/api/svm/svms/${svm.uuid}?fields=state`);
    await admin.rest("POST", "/api/svm/svms", { body: { name: "p2" } });
    await admin.rest("GET", `/api/security/accounts/${svm.uuid}/vsadmin`);
    expect(await admin.calls()).toEqual({
      "GET /api/security/accounts/{owner.uuid}/{name}": 1,
      "GET /api/svm/svms": 1,
      "GET /api/svm/svms/{uuid}": 2,
      "POST /api/svm/svms": 1,
    });
  });

  it("reset clears state, rules and counts", async () => {
    await admin.createSvmDirect({ name: "p1" });
    await admin.addFault({ path: "^/api/cluster$", action: { type: "error", status: 500 } });
    await admin.rest("GET", "/api/cluster");
    await admin.reset();
    expect((await admin.state()).svms).toEqual([]);
    expect((await admin.listFaults()).rules).toEqual([]);
    expect(await admin.calls()).toEqual({});
  });

  it("requires cluster admin credentials on the admin API", async () => {
    const res = await admin.rest("GET", "/__sim/state", { auth: null });
    expect(res.status).toBe(401);
    expect(res.body.error?.code).toBe("6691623");
    const wrong = new SimAdmin({ ...sim.clusters[0]!, password: "wrong" });
    try {
      await expect(wrong.setBgp(true)).rejects.toBeInstanceOf(SimAdminError);
    } finally {
      await wrong.close();
    }
  });
});
