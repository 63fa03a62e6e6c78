import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { readConversation, replayConversation } from "../support/conversation-replay.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";
import { seedTridentWorld, TRIDENT_WORLD } from "../support/trident-world.js";
import { createOntapClient } from "../../src/ontap/index.js";
import { ensureAccountRole, ensureSvmRole } from "../../src/ontap-extension/svm-user-role.js";

/**
 * CI's stand-in for the real Trident, which CI does not build (its build recipe stays outside this repository):
 * the conversation each real Trident release the extension deploys held with the simulator's SVM management LIF
 * while `TRIDENT_VERSION=<version> npm run trident:e2e -- --record` bound the backend and carried a volume
 * through its life, replayed against the simulator. A change to the simulator that would have answered Trident
 * differently (a status, a field it read) fails here. Every test/fixtures/trident-v<version> directory is
 * replayed; re-record with the same command for a new Trident version or a deliberate change.
 */
const FIXTURES = path.join(import.meta.dirname, "..", "fixtures");
const VERSIONS = readdirSync(FIXTURES)
  .map((name) => name.match(/^trident-v(\d+\.\d+\.\d+)$/)?.[1])
  .filter((version): version is string => version !== undefined)
  .sort();
const fixture = (version: string) => path.join(FIXTURES, `trident-v${version}`, "conversation.json");

let sim: RunningSimulator;
let admin: SimAdmin;

beforeAll(async () => {
  sim = await startSimulator({ jobMs: 0 });
  admin = new SimAdmin(sim.clusters[0]!);
});
afterAll(async () => {
  await admin.close();
  await sim.stop();
});
beforeEach(async () => {
  await admin.reset();
  await seedTridentWorld(admin);
});

function target() {
  const url = sim.lifEndpoints()[TRIDENT_WORLD.managementLif]?.url;
  if (!url) throw new Error("no listener for the management LIF");
  return { url, ca: readFileSync(sim.clusters[0]!.caFile, "utf8"), username: TRIDENT_WORLD.username, password: TRIDENT_WORLD.password };
}

it("finds the recorded conversation of every Trident release the extension deploys", () => {
  expect(VERSIONS).toEqual(expect.arrayContaining(["25.06.3"]));
});

describe.each(VERSIONS)("Trident v%s's recorded conversation", (version) => {
  const FIXTURE = fixture(version);

  it("was recorded from a whole volume life and holds no secret", () => {
    const conversation = readConversation(FIXTURE);
    expect(conversation.trident).toBe(version);
    const calls = new Set(conversation.exchanges.map((e) => `${e.method} ${e.template}`));
    for (const call of [
      "GET /api/cluster",
      "GET /api/svm/svms",
      "POST /api/storage/volumes",
      "POST /api/storage/namespaces",
      "POST /api/protocols/nvme/subsystems",
      "POST /api/protocols/nvme/subsystem-maps",
      "POST /api/storage/volumes/{volume.uuid}/snapshots",
      "DELETE /api/storage/volumes/{uuid}",
    ]) {
      expect(calls, call).toContain(call);
    }
    expect(readFileSync(FIXTURE, "utf8")).not.toContain(TRIDENT_WORLD.password);
  });

  it("replays against the simulator with the same statuses and answer shapes", async () => {
    const result = await replayConversation(readConversation(FIXTURE), target());
    expect(result.differences).toEqual([]);
    expect(result.replayed).toBeGreaterThan(20);
  });

  it("notices an answer that differs from the recording", async () => {
    const conversation = readConversation(FIXTURE);
    const svms = conversation.exchanges.findIndex((e) => e.method === "GET" && e.template === "/api/svm/svms");
    const altered = structuredClone(conversation);
    // As if the simulator had answered Trident's SVM lookup with one more field: the replay must report it.
    (altered.exchanges[svms]!.response as { records: Array<Record<string, unknown>> }).records[0]!.state = "running";
    altered.exchanges = altered.exchanges.slice(0, svms + 1);
    const result = await replayConversation(altered, target());
    expect(result.differences).toEqual([expect.stringMatching(/GET \/api\/svm\/svms.*answer lacks \[records\.state\]/)]);
  });
});

/**
 * The shoot user on providerConfig `svmUserRole: trident` (NetApp's REST role for Trident), made by the
 * controller's own steps: each release's conversation replays unchanged, since the simulator holds the user to the
 * role at the LIF; without one tuple the replay differs (the role is what is tested, not a pass-through).
 */
describe("the recorded conversations with the user on the trident role", () => {
  async function onTridentRole(without?: string): Promise<void> {
    const uuid = String((await admin.state()).svms.find((s) => s.name === TRIDENT_WORLD.svm)!.uuid);
    const client = createOntapClient(sim.clusters[0]!);
    try {
      expect(await ensureSvmRole(client, { uuid }, "trident")).toBe("created");
      expect(await ensureAccountRole(client, { uuid }, TRIDENT_WORLD.username, "trident", undefined)).toBe("assigned");
      if (without) await client.removeRolePrivilege(uuid, "trident", without);
    } finally {
      await client.close();
    }
  }

  it.each(VERSIONS)("Trident v%s: replays with the same statuses and answer shapes", async (version) => {
    await onTridentRole();
    const result = await replayConversation(readConversation(fixture(version)), target());
    expect(result.differences).toEqual([]);
  });

  it("refuses Trident's namespace calls when the role lacks /api/storage/namespaces", async () => {
    await onTridentRole("/api/storage/namespaces");
    const result = await replayConversation(readConversation(fixture("25.06.3")), target());
    expect(result.differences).toContainEqual(expect.stringMatching(/POST \/api\/storage\/namespaces.*403/));
  });
});
