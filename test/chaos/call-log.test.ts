import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Namespaces } from "../../src/kube/resources.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { type ChaosLane, createChaosLane } from "../support/chaos-world.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";
import { uniqueSuffix } from "../support/world.js";

interface LogEntry {
  seq: number;
  at: number;
  cluster: string;
  method: string;
  template: string;
  query: string;
  username: string;
}

describe("the simulator's ordered call log", () => {
  let sim: RunningSimulator;
  let admins: SimAdmin[];
  beforeAll(async () => {
    sim = await startSimulator({ clusters: 2, svmLoginOnCluster: true });
    admins = sim.clusters.map((c) => new SimAdmin(c));
  });
  afterAll(async () => {
    await Promise.all(admins.map((a) => a.close()));
    await sim.stop();
  });
  const log = async (admin: SimAdmin, since?: number) => {
    const res = await admin.rest("GET", `/__sim/calls?log=true${since === undefined ? "" : `&since=${since}`}`);
    expect(res.status).toBe(200);
    return res.body.log as LogEntry[];
  };

  it("lists REST calls of both clusters in arrival order with template, query and user, and no admin calls", async () => {
    const [one, two] = admins as [SimAdmin, SimAdmin];
    await one.rest("GET", "/api/svm/svms?name=p1&fields=uuid");
    await two.rest("GET", "/api/cluster/nodes");
    await one.rest("GET", "/api/svm/svms/not-a-uuid");
    await one.rest("GET", "/api/svm/svms?return_records=false", { auth: { username: "shootuser", password: "wrong-password" } });
    await one.state();
    const merged = [...(await log(one)), ...(await log(two))].sort((a, b) => a.seq - b.seq);
    expect(merged.map((e) => [e.cluster, e.method, e.template, e.query, e.username])).toEqual([
      ["sim-1", "GET", "/api/svm/svms", "name=p1&fields=uuid", "admin"],
      ["sim-2", "GET", "/api/cluster/nodes", "", "admin"],
      ["sim-1", "GET", "/api/svm/svms/{uuid}", "", "admin"],
      ["sim-1", "GET", "/api/svm/svms", "return_records=false", "shootuser"],
    ]);
    expect(merged.map((e) => e.at)).toEqual([...merged.map((e) => e.at)].sort((a, b) => a - b));
    // The counts stay as they were: the log is an addition to them.
    expect(await one.calls()).toEqual({ "GET /api/svm/svms": 2, "GET /api/svm/svms/{uuid}": 1 });
  });

  it("answers only the calls after `since`, refuses a bad `since`, and starts empty after a reset", async () => {
    const one = admins[0]!;
    const all = await log(one);
    const last = all.at(-1)!.seq;
    await one.rest("GET", "/api/storage/aggregates");
    expect((await log(one, last)).map((e) => e.template)).toEqual(["/api/storage/aggregates"]);
    expect((await one.rest("GET", "/__sim/calls?log=true&since=-1")).status).toBe(400);
    await one.reset();
    expect(await log(one)).toEqual([]);
  });
});

describe("a chaos lane's Kubernetes call log", () => {
  let lane: ChaosLane;
  beforeAll(async () => {
    lane = await createChaosLane({ name: "log", kind: "in-process", resourceManager: "real" });
  });
  afterAll(async () => {
    await lane.close();
  });

  it("sees every request the controller sends through the fault proxy, in order, with the concrete path", async () => {
    const from = lane.kubeSeq();
    const shoot = await lane.newShoot();
    await lane.world.waitSucceeded(shoot);
    const calls = lane.kubeLog(from).filter((c) => c.path.includes(shoot.namespace));
    expect(calls[0]?.method).toBeDefined();
    expect(calls.map((c) => c.seq)).toEqual([...calls.map((c) => c.seq)].sort((a, b) => a - b));
    expect(calls).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ method: "POST", path: `/api/v1/namespaces/${shoot.namespace}/secrets` }),
        expect.objectContaining({ method: "PUT", path: `/api/v1/namespaces/${shoot.namespace}/secrets/ontap-svm-credentials` }),
      ]),
    );
    // Requests of the test itself go to kube-apiserver directly and are not in the log.
    const ns = `log-${uniqueSuffix()}`;
    await lane.world.kube.create(Namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    expect(lane.kubeLog(from).some((c) => c.path.includes(ns))).toBe(false);
    await lane.discard(shoot);
  });
});
