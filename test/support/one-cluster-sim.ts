import { createOntapClient, type OntapClient } from "../../src/ontap/index.js";
import { type RunningSimulator, startSimulator } from "../../src/simulator/index.js";
import { SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * One simulated ONTAP cluster for the unit tests of the credentials and teardown steps: jobs end at once, and SVM
 * users may log in on the cluster interface, the proof those tests count (the LIF check itself is tested in
 * credentials-verification.test.ts).
 */
export interface OneClusterSim {
  sim: RunningSimulator;
  admin: SimAdmin;
  client: OntapClient;
}

export async function startOneClusterSim(): Promise<OneClusterSim> {
  const sim = await startSimulator({ jobMs: 0, svmLoginOnCluster: true });
  return { sim, admin: new SimAdmin(sim.clusters[0]!), client: createOntapClient(sim.clusters[0]!) };
}

export async function stopOneClusterSim(world: OneClusterSim): Promise<void> {
  await world.client.close();
  await world.admin.close();
  await world.sim.stop();
}
