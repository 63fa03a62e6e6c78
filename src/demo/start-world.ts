import { loadKubeConfig } from "../kube/config.js";
import { createKubeClient, type KubeClient } from "../kube/client.js";
import { type BuiltWorld, buildWorld, type ShootEnv, type WorldPart } from "../testenv/index.js";
import { DEMO_SHOOTS } from "./demo-shoots.js";
import type { Display, Step } from "./display.js";
import type { RunningParts } from "./running-parts.js";

export interface DemoWorld {
  world: BuiltWorld;
  /** Per shoot namespace: its own kube-apiserver + etcd and gardener-resource-manager. */
  shootEnvs: Map<string, ShootEnv>;
  /** Admin clients of the shoots' API servers, for the live view of what arrived in each. */
  shootClients: Map<string, KubeClient>;
}

const STARTING: Record<WorldPart, string> = {
  seed: "starting etcd and kube-apiserver, installing Gardener's CRDs",
  ontap: "starting a simulated ONTAP MetroCluster (2 clusters)",
  "fault proxy": "starting the fault proxy between the controller and kube-apiserver",
  "shoot webhook": "starting the controller's shoot webhook server",
  shoots: `starting a shoot for each of the ${DEMO_SHOOTS.length} shoots: kube-apiserver + etcd and gardener-resource-manager (seed -> shoot)`,
};

function readyText(part: WorldPart, w: Partial<BuiltWorld>, seconds: string): string {
  switch (part) {
    case "seed":
      return `kube-apiserver ready at ${w.seed?.server} in ${seconds}s`;
    case "ontap":
      return `ONTAP MetroCluster simulated: ${w.sim?.clusters.map((c) => `${c.name} ${c.url}`).join(", ")}`;
    case "fault proxy":
      return `fault proxy at ${w.proxy?.url}`;
    case "shoot webhook":
      return `shoot webhook at ${w.webhook?.url}`;
    case "shoots":
      return `${DEMO_SHOOTS.length} shoots ready in ${seconds}s, each with its own kube-apiserver and gardener-resource-manager`;
  }
}

/**
 * Phase 1 of the story after the binaries: the world from src/testenv's builder, as the tests and the
 * benchmark build theirs: the seed, a simulated two-cluster MetroCluster whose SVM jobs take a moment so their
 * progress shows, the fault proxy the failure is armed in, the shoot webhook, and one shoot per demo shoot
 * (kube-apiserver + etcd, gardener-resource-manager for that shoot namespace, and the stand-ins for what needs
 * kubelets), started before Gardener creates anything.
 */
export async function startDemoWorld(display: Display, running: RunningParts, dir: string): Promise<DemoWorld> {
  const steps = new Map<WorldPart, { step: Step; at: number }>();
  const world = await buildWorld({
    dir,
    ontap: { clusters: 2, jobMs: 1500 },
    faultProxy: true,
    resourceManager: { kind: "real", upfront: DEMO_SHOOTS.map((s) => s.namespace) },
    kubeTimeoutMs: 10_000,
    progress: {
      starting: (part) => steps.set(part, { step: display.step(STARTING[part]), at: Date.now() }),
      ready(part, sofar) {
        const started = steps.get(part);
        steps.delete(part);
        started?.step.done(readyText(part, sofar, ((Date.now() - (started?.at ?? Date.now())) / 1000).toFixed(1)));
      },
    },
  }).catch((err: unknown) => {
    for (const { step } of steps.values()) step.fail();
    throw err;
  });
  const shootEnvs = new Map<string, ShootEnv>();
  const shootClients = new Map<string, KubeClient>();
  const shootPorts: string[] = [];
  running.add("world (seed, ONTAP, fault proxy, shoot webhook, shoots)", () => world.close(), () => [...world.ports(), ...shootPorts]);
  if (world.seedEnv) running.trackPids(world.seedEnv.dir, ["kube-apiserver", "etcd"]);
  for (const { namespace } of DEMO_SHOOTS) {
    const side = await world.shoots?.get(namespace);
    if (!side) continue;
    shootEnvs.set(namespace, side.env);
    shootClients.set(namespace, createKubeClient(loadKubeConfig(side.env.kubeconfigPath), { timeoutMs: 10_000 }));
    shootPorts.push(
      `${namespace} kube-apiserver ${new URL(side.env.server).port}`,
      `${namespace} gardener-resource-manager ${new URL(side.env.resourceManager.healthUrl).port}`,
    );
    running.trackPids(side.env.dir, ["kube-apiserver", "etcd", "gardener-resource-manager"], `${namespace} `);
  }
  return { world, shootEnvs, shootClients };
}
