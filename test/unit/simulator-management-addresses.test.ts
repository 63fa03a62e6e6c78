import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOntapClient, type OntapClient } from "../../src/ontap/index.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";

/**
 * ONTAP's cluster management interface is an address of its own at port 443, and the Go extension's configuration
 * takes nothing else (`ipaddress`, a bare IP it dials as https://<ip>/api). The simulator serves each cluster so,
 * on a loopback address, with a certificate that names it (the benchmark runs the Go extension beside this one).
 */
describe("the simulator's management addresses", () => {
  let sim: RunningSimulator;
  let clients: OntapClient[];
  beforeAll(async () => {
    sim = await startSimulator({ clusters: 2, managementAddresses: ["127.0.0.31", "127.0.0.32"] });
    clients = sim.clusters.map((c) => createOntapClient(c));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await sim.stop();
  });

  it("serves each cluster at https://<its address> (port 443), certificate verified", async () => {
    expect(sim.clusters.map((c) => c.url)).toEqual(["https://127.0.0.31", "https://127.0.0.32"]);
    const names = await Promise.all(clients.map(async (c) => (await c.getCluster()).name));
    expect(names).toEqual(["sim-1", "sim-2"]);
  });

  it("refuses an address that is not loopback, naming it", async () => {
    await expect(startSimulator({ managementAddresses: ["10.0.0.1"] })).rejects.toThrow(/managementAddresses: 10\.0\.0\.1 is not a loopback/);
  });
});
