/**
 * The real Trident against this extension's output: NetApp's Trident controller (`trident_orchestrator`, built
 * from its source outside this repository; see the report of issue 22 for how) runs out of cluster against a
 * shoot kube-apiserver of the test world, with CRD persistence, in its own network namespace where the SVM
 * management LIF's address is on `lo`. The only way out of that namespace is Unix sockets bridged to the
 * simulator's LIF listener and the shoot API server (hack/trident-netns-bridge.mjs): nothing leaves loopback.
 *
 * It reads the TridentBackendConfig and credentials Secret as src/trident renders them, must bind the backend,
 * and carries one volume through its life over CSI (Trident's Unix socket): created, published to a node NQN,
 * snapshotted, cloned, resized, unpublished, deleted, with the simulator's state checked after each step.
 *
 *   npm run trident:e2e                      # TRIDENT_BIN or ~/.cache/gardener-extension-ontap/bin/trident-v25.06.3
 *   npm run trident:e2e -- --record          # also rewrites test/fixtures/trident-v<version>/conversation.json
 *   TRIDENT_VERSION=26.06.0 npm run trident:e2e   # another release: its binary and source tree from the cache
 *   TRIDENT_E2E_SVM_ROLE=trident npm run trident:e2e   # the shoot user on the least-privilege role (providerConfig
 *                                            # svmUserRole: trident), made by the controller's own code
 *
 * The shoot gets the CRDs of the release that runs, read from its source tree (TRIDENT_SRC or
 * ~/.cache/gardener-extension-ontap/src/trident-v<version>, see hack/trident-release.ts).
 *
 * Exit 0: every step passed. Exit 2: the binary is missing (nothing ran). Exit 1: a step failed (Trident's log
 * tail is printed). Root is needed (unshare -n, ip addr).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import net from "node:net";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { createKubeClient, type KubeClient } from "../src/kube/client.js";
import { loadKubeConfig } from "../src/kube/config.js";
import { CustomResourceDefinitions, type ResourceType } from "../src/kube/resources.js";
import type { SimExchange } from "../src/simulator/cluster.js";
import { type RunningSimulator, startSimulator } from "../src/simulator/index.js";
import { installTridentOwnCrds, startTestEnv, type TestEnv } from "../src/testenv/index.js";
import { renderTridentManagedResources } from "../src/trident/index.js";
import { type OntapRecord, SimAdmin } from "../src/simulator/admin-client.js";
import { seedTridentWorld, TRIDENT_WORLD } from "../test/support/trident-world.js";
import { readTridentRelease, type TridentRelease } from "./trident-release.js";
import { createOntapClient } from "../src/ontap/index.js";
import { ensureAccountRole, ensureSvmRole } from "../src/ontap-extension/svm-user-role.js";
import { TRIDENT_ROLE_PRIVILEGES } from "../src/ontap-extension/trident-role.js";

const VERSION = process.env.TRIDENT_VERSION ?? "25.06.3";
const CACHE = process.env.GARDENER_EXTENSION_ONTAP_CACHE ?? path.join(homedir(), ".cache", "gardener-extension-ontap");
const BIN = process.env.TRIDENT_BIN ?? path.join(CACHE, "bin", `trident-v${VERSION}`);
/** `ShootAndClaim`: the backend gets the providerConfig's volume name template (src/trident/render.ts), and the run checks the names Trident gives. */
const VOLUME_NAMING = process.env.TRIDENT_E2E_VOLUME_NAMING === "ShootAndClaim" ? "ShootAndClaim" : "Trident";
/**
 * `TRIDENT_E2E_LUKS=true`: the volume comes from the rendered encrypted class (selector `luks=true`, the backend's
 * `luksEncryption: "true"` pool), and the run checks the controller's side of LUKS against ONTAP: the namespace
 * carries LUKS's metadata overhead and the `LUKS` attribute in its comment, the publish context tells the node.
 * (Formatting and opening the device is the node plugin's, which does not run here.)
 */
const LUKS = process.env.TRIDENT_E2E_LUKS === "true";
const SELECTOR = LUKS ? "luks=true" : "luks=false";
/** Trident's utils/devices/luks MetadataSize: the LUKS header it adds to every LUKS namespace (18 MiB). */
const LUKS_METADATA_BYTES = 18 * 1024 ** 2;
const E2E_SHOOT = { project: "e2e", name: "trident" };
/** `trident`: the shoot user gets NetApp's REST role for Trident instead of vsadmin, as `svmUserRole: trident` does. */
const SVM_ROLE = process.env.TRIDENT_E2E_SVM_ROLE === "trident" ? "trident" : "vsadmin";
const SRC = process.env.TRIDENT_SRC ?? path.join(CACHE, "src", `trident-v${VERSION}`);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const FIXTURE = path.join(REPO, "test", "fixtures", `trident-v${VERSION}`, "conversation.json");

const WORLD = TRIDENT_WORLD;

const GiB = 1024 ** 3;
const TBC: ResourceType = { group: "trident.netapp.io", version: "v1", plural: "tridentbackendconfigs", kind: "TridentBackendConfig", namespaced: true };
const TRIDENT_BACKENDS: ResourceType = { group: "trident.netapp.io", version: "v1", plural: "tridentbackends", kind: "TridentBackend", namespaced: true };
const STORAGE_CLASSES: ResourceType = { group: "storage.k8s.io", version: "v1", plural: "storageclasses", kind: "StorageClass", namespaced: false };
const PVCS: ResourceType = { group: "", version: "v1", plural: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespaced: true };
const NODES: ResourceType = { group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false };
const SECRETS: ResourceType = { group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true };

const log = (message: string) => process.stdout.write(`[trident-e2e ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

class StepError extends Error {}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StepError(message);
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof StepError) throw error;
      last = error;
    }
    if (Date.now() > deadline) throw new StepError(`${what}: not within ${timeoutMs / 1000}s${last ? ` (last error: ${String(last)})` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Host side of the bridge: Unix sockets in `dir` that lead to TCP ports on the host's loopback. */
function hostBridge(routes: Array<{ socket: string; port: number }>): Promise<net.Server[]> {
  return Promise.all(
    routes.map(
      ({ socket, port }) =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer((client) => {
            const upstream = net.connect({ host: "127.0.0.1", port });
            client.pipe(upstream).pipe(client);
            const close = () => {
              client.destroy();
              upstream.destroy();
            };
            client.on("error", close);
            upstream.on("error", close);
          });
          server.once("error", reject);
          server.listen(socket, () => resolve(server));
        }),
    ),
  );
}

/** An HTTP request to Trident's REST API, through the Unix socket that leads into its namespace. */
function tridentRest(socketPath: string, method: string, urlPath: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      { socketPath, method, path: urlPath, headers: payload ? { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } : {} },
      (res) => {
        let text = "";
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

type Unary = (request: unknown, callback: (error: grpc.ServiceError | null, response: Record<string, unknown>) => void) => void;

function csiClient(socket: string, csiSpecVersion: string): Record<string, (request: unknown) => Promise<Record<string, unknown>>> {
  const gomodcache = spawnSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).stdout.trim() || path.join(homedir(), "go", "pkg", "mod");
  // The CSI spec's proto comes with Trident's dependencies (module proxy); it is not vendored here.
  const proto = path.join(gomodcache, "github.com", "container-storage-interface", `spec@${csiSpecVersion}`, "csi.proto");
  check(existsSync(proto), `${proto} is missing: it arrives with Trident's Go dependencies when Trident is built`);
  const definition = protoLoader.loadSync(proto, { keepCase: true, longs: Number, enums: String, defaults: false, oneofs: true });
  const csi = (grpc.loadPackageDefinition(definition) as unknown as { csi: { v1: Record<string, grpc.ServiceClientConstructor> } }).csi.v1;
  const controller = new csi.Controller!(`unix://${socket}`, grpc.credentials.createInsecure()) as unknown as Record<string, Unary>;
  const identity = new csi.Identity!(`unix://${socket}`, grpc.credentials.createInsecure()) as unknown as Record<string, Unary>;
  const call =
    (client: Record<string, Unary>, method: string) =>
    (request: unknown): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        client[method]!.call(client, request, (error, response) => (error ? reject(new StepError(`CSI ${method}: ${error.message}`)) : resolve(response)));
      });
  return Object.fromEntries(
    [
      ...["CreateVolume", "DeleteVolume", "ControllerPublishVolume", "ControllerUnpublishVolume", "CreateSnapshot", "DeleteSnapshot", "ControllerExpandVolume"].map(
        (m) => [m, call(controller, m)] as const,
      ),
      ["Probe", call(identity, "Probe")] as const,
    ],
  );
}

/** What the extension delivers into the shoot for Trident, from its own renderer: the backend, the StorageClasses, the Secret. */
async function applyRendered(shoot: KubeClient, release: TridentRelease): Promise<void> {
  // The release's installer creates its CRDs (the extension delivers the operator's); the ones it already
  // created are skipped by installTridentOwnCrds, which adds what the extension's rendering holds besides.
  for (const crd of release.crds) await shoot.create(CustomResourceDefinitions, crd);
  await installTridentOwnCrds(shoot);
  const plans = renderTridentManagedResources({
    svmName: WORLD.svm,
    managementLif: WORLD.managementLif,
    dataLifs: [WORLD.dataLif],
    credentialsSecretName: WORLD.credentialsSecretName,
    username: WORLD.username,
    password: WORLD.password,
    firewallNamespaceExists: false,
    shoot: E2E_SHOOT,
    storage: { volumeSnapshotClass: false, volumeNaming: VOLUME_NAMING },
  });
  const wanted = plans.filter((p) => p.name === "trident-backends" || p.name === "trident-svm-secret").flatMap((p) => p.objects) as Array<{
    kind: string;
  }>;
  check(wanted.some((o) => o.kind === "TridentBackendConfig") && wanted.some((o) => o.kind === "Secret"), "the renderer gave no backend or Secret");
  const types: Record<string, ResourceType> = {
    TridentBackendConfig: TBC,
    StorageClass: STORAGE_CLASSES,
    Secret: SECRETS,
    // The storage health check's read access (src/health/shoot-trident.ts); Trident does not need it.
    Role: { group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", kind: "Role", namespaced: true },
    RoleBinding: { group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", kind: "RoleBinding", namespaced: true },
  };
  // CRDs take a moment to be served after they are established.
  for (const obj of wanted) await until(`create ${obj.kind}`, 30_000, async () => (await shoot.create(types[obj.kind]!, obj)) && true);
}

/** What Trident's ontap-san NVMe driver writes to ONTAP for a LUKS volume of `requested` bytes. */
function checkLuksNamespace(ns: OntapRecord, requested: number): void {
  const size = (ns.space as { size: number }).size;
  check(size === requested + LUKS_METADATA_BYTES, `LUKS: namespace ${ns.name} is ${size} bytes, not ${requested} + ${LUKS_METADATA_BYTES} (LUKS header)`);
  const attributes = (JSON.parse(String(ns.comment)) as { nsAttribute?: Record<string, string> }).nsAttribute;
  check(attributes?.LUKS === "true", `LUKS: namespace ${ns.name} comment ${JSON.stringify(ns.comment)} has no LUKS=true attribute`);
  log(`LUKS: namespace ${ns.name} is ${requested} + ${LUKS_METADATA_BYTES} bytes, comment ${String(ns.comment)}`);
}

interface Running {
  sim?: RunningSimulator;
  admin?: SimAdmin;
  world?: TestEnv;
  trident?: ChildProcess;
  bridges: net.Server[];
}

async function main(): Promise<number> {
  const record = process.argv.includes("--record");
  if (record && LUKS) {
    log("--record keeps the fixture of the luks=false run: record without TRIDENT_E2E_LUKS; nothing ran");
    return 2;
  }
  if (!existsSync(BIN)) {
    log(`no Trident binary at ${BIN}: build trident_orchestrator v${VERSION} from NetApp/trident first (or set TRIDENT_BIN); nothing ran`);
    return 2;
  }
  let release: TridentRelease;
  try {
    release = readTridentRelease(SRC);
  } catch (error) {
    log(`${error instanceof Error ? error.message : String(error)}; nothing ran`);
    return 2;
  }
  const dir = mkdtempSync(path.join(tmpdir(), "trident-e2e-"));
  const running: Running = { bridges: [] };
  const tridentLog = path.join(dir, "trident.log");
  try {
    log(`work dir ${dir}; binary ${BIN}; ${release.crds.length} CRDs from ${SRC}`);
    running.sim = await startSimulator({ clusters: 1, jobMs: 100 });
    running.admin = new SimAdmin(running.sim.clusters[0]!);
    const seeded = await seedTridentWorld(running.admin);
    if (SVM_ROLE === "trident") {
      // The controller's own steps (src/ontap-extension/svm-user-role.ts) through its client, as a reconcile runs them.
      const client = createOntapClient(running.sim.clusters[0]!);
      try {
        const made = await ensureSvmRole(client, seeded, "trident");
        const assigned = await ensureAccountRole(client, seeded, WORLD.username, "trident", undefined);
        const account = (await running.admin.state()).accounts.find((a) => a.name === WORLD.username) as { role?: { name?: string } } | undefined;
        check(made === "created" && assigned === "assigned" && account?.role?.name === "trident", `role trident: ${made}, ${assigned}, account ${JSON.stringify(account?.role)}`);
        log(`SVM user ${WORLD.username} on role trident (${TRIDENT_ROLE_PRIVILEGES.length} REST tuples, NetApp's list)`);
      } finally {
        await client.close();
      }
    }
    const lifUrl = running.sim.lifEndpoints()[WORLD.managementLif]?.url;
    check(lifUrl, "the simulator opened no listener for the management LIF");
    log(`simulator: SVM ${WORLD.svm}, management LIF ${WORLD.managementLif} -> ${lifUrl}`);

    // The shoot's API server: kube-apiserver + etcd of the test world. Trident's objects are applied to it
    // directly as src/trident renders them; their delivery through ManagedResources and the real
    // gardener-resource-manager is what the integration tests prove, not repeated here.
    running.world = await startTestEnv({ dir: path.join(dir, "shoot") });
    const shootKc = running.world.kubeconfigPath;
    const shoot = createKubeClient(loadKubeConfig(shootKc));
    await applyRendered(shoot, release);
    log(`shoot API server ${running.world.server}: Trident's CRDs, the backend config, its Secret and the StorageClasses applied`);

    // Trident's namespace comes from its kubeconfig's context out of cluster: kube-system, where the backend is.
    const tridentKc = path.join(dir, "trident.kubeconfig");
    const kubeconfig = JSON.parse(readFileSync(shootKc, "utf8")) as { contexts: Array<{ context: Record<string, string> }> };
    for (const context of kubeconfig.contexts) context.context.namespace = "kube-system";
    writeFileSync(tridentKc, JSON.stringify(kubeconfig, null, 2));
    await shoot.create(NODES, { apiVersion: "v1", kind: "Node", metadata: { name: WORLD.nodeName } });
    const aesKey = path.join(dir, "aes.key");
    writeFileSync(aesKey, randomBytes(32).toString("base64"), { mode: 0o600 });

    const apiPort = Number(new URL(running.world.server).port);
    const lifPort = Number(new URL(lifUrl).port);
    const sock = (name: string) => path.join(dir, `${name}.sock`);
    running.bridges = await hostBridge([
      { socket: sock("to-lif"), port: lifPort },
      { socket: sock("to-apiserver"), port: apiPort },
    ]);
    if (record || SVM_ROLE === "trident") await running.admin.rest("PUT", "/__sim/conversation");

    const inside = [
      "set -e",
      "ip link set lo up",
      `ip addr add ${WORLD.managementLif}/32 dev lo`,
      `node ${path.join(REPO, "hack", "trident-netns-bridge.mjs")} tcp:${WORLD.managementLif}:443=unix:${sock("to-lif")} tcp:127.0.0.1:${apiPort}=unix:${sock("to-apiserver")} unix:${sock("trident-rest")}=tcp:127.0.0.1:8000 > ${path.join(dir, "bridge.out")} &`,
      // Trident dials the API server once at start and exits if it is refused: wait for the bridge's "ready".
      `i=0; until grep -q ready ${path.join(dir, "bridge.out")}; do i=$((i+1)); [ $i -lt 300 ] || { echo "netns bridge not ready" >&2; exit 1; }; sleep 0.1; done`,
      `exec ${BIN} --k8s_pod --k8s_config_path=${tridentKc} --crd_persistence --csi_endpoint=unix://${sock("csi")} --csi_node_name=${WORLD.nodeName} --csi_role=controller --address=127.0.0.1 --port=8000 --aes_key=${aesKey} --log_format=json --debug --disable_audit_log`,
    ].join("\n");
    const out = createWriteStream(tridentLog);
    running.trident = spawn("unshare", ["-n", "--", "sh", "-c", inside], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    running.trident.stdout!.pipe(out);
    running.trident.stderr!.pipe(out);
    log(`Trident started in its own network namespace (pid ${running.trident.pid}); log ${tridentLog}`);

    let exited: number | null | undefined;
    running.trident.once("exit", (code) => {
      exited = code;
    });
    await until("Trident's CSI socket", 120_000, async () => {
      if (exited !== undefined) throw new StepError(`Trident exited with ${exited} before it served CSI`);
      return existsSync(sock("csi")) ? true : undefined;
    });
    const csi = csiClient(sock("csi"), release.csiSpecVersion);
    // CSI: an unset `ready` means ready; Trident answers Probe with an empty response once it bootstrapped.
    await until("CSI Probe ready", 120_000, async () => ((await csi.Probe!({})).ready as { value?: boolean } | undefined)?.value === false ? undefined : true);

    const bound = await until("the TridentBackendConfig Bound", 180_000, async () => {
      const tbc = (await shoot.list<{ status?: { phase?: string; lastOperationStatus?: string; message?: string; backendInfo?: { backendName?: string } } }>(TBC, "kube-system")).items[0];
      return tbc?.status?.phase === "Bound" ? tbc : undefined;
    });
    const backends = (await shoot.list<{ state?: string; spec?: unknown; metadata: { name?: string } } & Record<string, unknown>>(TRIDENT_BACKENDS, "kube-system")).items;
    check(backends.length === 1 && backends[0]!.state === "online", `TridentBackend not online: ${JSON.stringify(backends.map((b) => b.state))}`);
    log(`backend ${bound.status?.backendInfo?.backendName} Bound (${bound.status?.lastOperationStatus}) and online`);

    // The node, as its node plugin would register it (the controller's REST API, inside the namespace).
    const node = await tridentRest(sock("trident-rest"), "PUT", `/trident/v1/node/${WORLD.nodeName}`, {
      name: WORLD.nodeName,
      nqn: WORLD.nodeNqn,
      ips: ["10.250.0.5"],
      hostInfo: { os: { distro: "ubuntu", version: "24.04" } },
      deleted: false,
      publicationState: "clean",
    });
    check(node.status === 200 || node.status === 201, `node registration: HTTP ${node.status} ${node.text}`);

    const state = async () => running.admin!.state();
    const dataVolumes = async () => ((await state()).volumes as OntapRecord[]).filter((v) => v.is_svm_root === false);
    const capability = { mount: { fs_type: "ext4", mount_flags: [] }, access_mode: { mode: "SINGLE_NODE_WRITER" } };
    const params = (pvcName: string, pvName: string) => ({
      backendType: "ontap-san",
      provisioningType: "thin",
      selector: SELECTOR,
      fsType: "ext4",
      "csi.storage.k8s.io/pvc/name": pvcName,
      "csi.storage.k8s.io/pvc/namespace": "default",
      "csi.storage.k8s.io/pv/name": pvName,
    });
    const storageClassName = (await shoot.list<{ metadata: { name?: string } ; parameters?: Record<string, string> }>(STORAGE_CLASSES)).items.find(
      (sc) => sc.parameters?.selector === SELECTOR,
    )?.metadata.name;
    check(storageClassName, `the rendered StorageClass for ${SELECTOR} is missing`);

    // Trident finds the PVC behind a CSI request by the volume name the CSI provisioner gives: pvc-<PVC uid>.
    const pvc = async (name: string) => {
      const created = await shoot.create<{ metadata: { uid?: string } }>(PVCS, {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name, namespace: "default" },
        spec: { accessModes: ["ReadWriteOnce"], storageClassName, resources: { requests: { storage: "1Gi" } } },
      } as never);
      return `pvc-${created.metadata.uid}`;
    };

    // 1. Create.
    const pvName = await pvc("data");
    const created = await csi.CreateVolume!({
      name: pvName,
      capacity_range: { required_bytes: GiB },
      volume_capabilities: [capability],
      parameters: params("data", pvName),
    });
    const volume = created.volume as { volume_id: string; volume_context: Record<string, string> };
    let s = await state();
    check((s.namespaces as OntapRecord[]).length === 1, `after create: ${(s.namespaces as OntapRecord[]).length} namespaces`);
    log(`created ${volume.volume_id}: volumes ${(await dataVolumes()).map((v) => v.name).join(", ")}, namespace ${(s.namespaces as OntapRecord[])[0]!.name}`);
    if (VOLUME_NAMING === "ShootAndClaim") {
      // <project>_<shoot>_<PVC namespace>_<PVC name>_<five characters of the UUID>, as the template says.
      const want = `${E2E_SHOOT.project}_${E2E_SHOOT.name}_default_data_${pvName.slice(4, 9)}`;
      check((await dataVolumes()).some((v) => v.name === want), `volumeNaming ShootAndClaim: no ONTAP volume ${want}`);
      log(`volumeNaming ShootAndClaim: ONTAP volume ${want}`);
    }
    if (LUKS) checkLuksNamespace((s.namespaces as OntapRecord[])[0]!, GiB);

    // 2. Publish to the node's NQN.
    const published = await csi.ControllerPublishVolume!({
      volume_id: volume.volume_id,
      node_id: WORLD.nodeName,
      volume_capability: capability,
      readonly: false,
      volume_context: volume.volume_context,
    });
    s = await state();
    const subsystems = s.subsystems as Array<OntapRecord & { hosts: Array<{ nqn: string }> }>;
    check(subsystems.length === 1 && subsystems[0]!.hosts.some((h) => h.nqn === WORLD.nodeNqn), `after publish: subsystems ${JSON.stringify(subsystems)}`);
    check((s.subsystem_maps as OntapRecord[]).length === 1, "after publish: no subsystem map");
    log(`published to ${WORLD.nodeNqn}: subsystem ${subsystems[0]!.name}, map 1, context ${Object.keys(published.publish_context ?? {}).join(",")}`);
    if (LUKS) {
      const context = published.publish_context as Record<string, string> | undefined;
      check(context?.LUKSEncryption === "true", `LUKS: publish context LUKSEncryption is ${JSON.stringify(context?.LUKSEncryption)}`);
      log("LUKS: the publish context tells the node LUKSEncryption=true");
    }

    // 3. Snapshot.
    const snap = await csi.CreateSnapshot!({ source_volume_id: volume.volume_id, name: "snapshot-e2e-0001", parameters: {} });
    const snapshotId = (snap.snapshot as { snapshot_id: string }).snapshot_id;
    s = await state();
    check((s.snapshots as OntapRecord[]).length === 1, `after snapshot: ${(s.snapshots as OntapRecord[]).length} snapshots`);
    log(`snapshot ${snapshotId}`);

    // 4. Clone from the snapshot.
    const clonePvName = await pvc("data-clone");
    const clone = await csi.CreateVolume!({
      name: clonePvName,
      capacity_range: { required_bytes: GiB },
      volume_capabilities: [capability],
      parameters: params("data-clone", clonePvName),
      volume_content_source: { snapshot: { snapshot_id: snapshotId } },
    });
    const cloneId = (clone.volume as { volume_id: string }).volume_id;
    const clones = (await dataVolumes()).filter((v) => (v.clone as { is_flexclone?: boolean } | undefined)?.is_flexclone);
    check(clones.length === 1, `after clone: ${clones.length} FlexClones`);
    log(`clone ${cloneId}: FlexClone ${clones[0]!.name}`);

    // 5. Resize the original to 2 GiB.
    await csi.ControllerExpandVolume!({ volume_id: volume.volume_id, capacity_range: { required_bytes: 2 * GiB }, volume_capability: capability });
    s = await state();
    const original = (s.namespaces as Array<OntapRecord & { space: { size: number }; location: { volume: { name: string } } }>).find(
      (n) => !clones.some((c) => c.name === n.location.volume.name),
    );
    check(original && original.space.size >= 2 * GiB, `after resize: namespace size ${original?.space.size}`);
    if (LUKS) checkLuksNamespace(original, 2 * GiB);
    log(`resized: namespace ${original.name} is ${original.space.size} bytes`);

    // 6. Unpublish.
    await csi.ControllerUnpublishVolume!({ volume_id: volume.volume_id, node_id: WORLD.nodeName });
    s = await state();
    check((s.subsystem_maps as OntapRecord[]).length === 0, "after unpublish: the map is still there");
    log(`unpublished: maps ${(s.subsystem_maps as OntapRecord[]).length}, subsystems ${(s.subsystems as OntapRecord[]).length}`);

    // 7. Delete: the clone, the snapshot, the volume.
    await csi.DeleteVolume!({ volume_id: cloneId });
    check(!(await dataVolumes()).some((v) => v.name === clones[0]!.name), "after deleting the clone: its FlexClone is still there");
    await csi.DeleteSnapshot!({ snapshot_id: snapshotId });
    check(((await state()).snapshots as OntapRecord[]).length === 0, "after deleting the snapshot: it is still there");
    await csi.DeleteVolume!({ volume_id: volume.volume_id });
    s = await state();
    check(
      (await dataVolumes()).length === 0 && (s.namespaces as OntapRecord[]).length === 0 && (s.snapshots as OntapRecord[]).length === 0,
      `after delete: ${JSON.stringify((await dataVolumes()).map((v) => v.name))}`,
    );
    log("deleted: no data volume, namespace or snapshot left on the simulator");

    if (record) {
      const res = await running.admin.rest("GET", "/__sim/conversation?stop=true");
      const exchanges = (res.body as unknown as { exchanges: SimExchange[] }).exchanges.filter((e) => e.endpoint.startsWith("lif "));
      mkdirSync(path.dirname(FIXTURE), { recursive: true });
      writeFileSync(
        FIXTURE,
        `${JSON.stringify({ trident: VERSION, world: { ...WORLD, password: "<redacted>" }, exchanges }, null, 1)}\n`,
      );
      log(`recorded ${exchanges.length} exchanges into ${path.relative(REPO, FIXTURE)}`);
    }
    if (SVM_ROLE === "trident") {
      // What the role refused Trident (403 at the LIF): a path NetApp's list lacks shows up here.
      const so = (await running.admin.rest("GET", "/__sim/conversation")).body as unknown as { exchanges: SimExchange[] };
      const lif = so.exchanges.filter((e) => e.endpoint.startsWith("lif "));
      const refused = [...new Set(lif.filter((e) => e.status === 403).map((e) => `${e.method} ${e.template}`))];
      log(`role trident: ${lif.length} calls at the LIF, ${refused.length} refused by the role${refused.length ? `: ${refused.join(", ")}` : ""}`);
    }
    log(`PASS (SVM user role ${SVM_ROLE}): the backend bound and one volume went through its whole life`);
    return 0;
  } catch (error) {
    log(`FAIL: ${error instanceof Error ? error.message : String(error)}`);
    if (existsSync(tridentLog)) {
      const lines = readFileSync(tridentLog, "utf8").trim().split("\n");
      process.stdout.write(`--- last lines of ${tridentLog}\n${lines.slice(-40).join("\n")}\n`);
    }
    if (record && running.admin) {
      // What was recorded up to the failure, for diagnosis (not the fixture).
      const res = await running.admin.rest("GET", "/__sim/conversation?stop=true").catch(() => undefined);
      if (res) writeFileSync(path.join(dir, "partial-conversation.json"), JSON.stringify(res.body, null, 1));
    }
    return 1;
  } finally {
    if (running.trident?.pid) {
      try {
        process.kill(-running.trident.pid, "SIGTERM");
      } catch {}
    }
    for (const server of running.bridges) server.close();
    await running.admin?.close().catch(() => undefined);
    await running.sim?.stop().catch(() => undefined);
    await running.world?.stop().catch(() => undefined);
  }
}

process.exitCode = await main();
