import { type OntapRecord, SimAdmin } from "../../src/simulator/admin-client.js";

/**
 * The shoot's ONTAP side as this extension makes it (its plan's names: SVM `p<project>`, `managementlif`,
 * `datalif+1`, the shoot's SVM-scoped user), shared by the real-Trident run (hack/trident-e2e.ts) and the CI
 * replay of its recorded conversation (test/unit/trident-conversation-replay.test.ts), so both start from the
 * same simulator state.
 */
export const TRIDENT_WORLD = {
  svm: "p0e2e0trident",
  managementLif: "10.130.0.10",
  dataLif: "10.130.0.11",
  username: "e2e-shoot",
  password: "Trident-E2e-Secret-1",
  credentialsSecretName: "p0e2e0trident-e2e--shoot-credentials",
  nodeName: "node1",
  nodeNqn: "nqn.2014-08.org.nvmexpress:uuid:5e1a0b7c-0000-4000-8000-00000000e2e1",
} as const;

/** Creates the SVM (on the first aggregate, NVMe on), its two LIFs and the shoot user; answers the SVM record. */
export async function seedTridentWorld(admin: SimAdmin): Promise<OntapRecord & { uuid: string }> {
  const aggregates = (await admin.rest("GET", "/api/storage/aggregates")).body.records!;
  const svm = await admin.createSvmDirect({ name: TRIDENT_WORLD.svm, aggregates: [{ name: String(aggregates[0]!.name) }] });
  for (const [name, address, policy] of [
    ["managementlif", TRIDENT_WORLD.managementLif, "default-management"],
    ["datalif+1", TRIDENT_WORLD.dataLif, "default-data-nvme-tcp"],
  ] as const) {
    const res = await admin.rest("POST", "/api/network/ip/interfaces", {
      body: { name, svm: { uuid: svm.uuid }, ip: { address, netmask: "24" }, service_policy: { name: policy } },
    });
    if (res.status !== 201) throw new Error(`LIF ${name}: HTTP ${res.status} ${res.text}`);
  }
  const user = await admin.rest("POST", "/api/security/accounts", {
    body: {
      name: TRIDENT_WORLD.username,
      owner: { uuid: svm.uuid },
      role: { name: "vsadmin" },
      applications: [{ application: "http", authentication_methods: ["password"] }],
      password: TRIDENT_WORLD.password,
    },
  });
  if (user.status !== 201) throw new Error(`account: HTTP ${user.status} ${user.text}`);
  return svm;
}

export { SimAdmin };
