import type { KubeClient } from "../kube/client.js";
import { isAlreadyExists } from "../kube/errors.js";
import { CustomResourceDefinitions, type ResourceType } from "../kube/resources.js";
import { renderReleasedTridentCrds, TRIDENT_CRD_NAMES } from "../trident/crds.js";
import {
  SHOOT_SYSTEM_NAMESPACE,
  TRIDENT_CONTROLLER_APP_LABEL,
  TRIDENT_CONTROLLER_DEPLOYMENT,
  TRIDENT_NODE_APP_LABEL,
  TRIDENT_NODE_DAEMONSET,
  TRIDENT_OPERATOR_NAME,
} from "../trident/names.js";
import { startPollingLoop } from "./polling-loop.js";

/**
 * Stands in for Trident's operator in a shoot of the test world, where its Deployment can never run (no
 * kubelet). Once gardener-resource-manager has delivered the operator's Deployment (ManagedResource
 * `trident-init`), it does the three things of the operator the rest of the story depends on, with the
 * definitions this project knows:
 * - installs Trident's own 15 CRDs (TridentBackendConfig among them: without it the resource manager cannot
 *   apply `trident-backends`),
 * - creates the node plugin DaemonSet `trident-node-linux` and the CSI controller Deployment `trident-controller`
 *   in kube-system, so the shoot webhook (`extension-ontap-shoot`) sees the admissions it exists for.
 * It never touches an object once it exists: what the webhook made of it stays visible.
 */
export interface TridentOperatorStandIn {
  stop(): Promise<void>;
}

export const Deployments: ResourceType = { group: "apps", version: "v1", plural: "deployments", kind: "Deployment", namespaced: true };
export const DaemonSets: ResourceType = { group: "apps", version: "v1", plural: "daemonsets", kind: "DaemonSet", namespaced: true };

/** The DaemonSet as Trident's operator creates it, before the shoot webhook mutates it. */
export function tridentNodeDaemonSet(): Record<string, unknown> {
  const labels = { app: TRIDENT_NODE_APP_LABEL };
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: TRIDENT_NODE_DAEMONSET, namespace: SHOOT_SYSTEM_NAMESPACE, labels },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { hostNetwork: true, containers: [{ name: "trident-main", image: "netapp/trident:25.06.2" }] } },
    },
  };
}

/** The CSI controller Deployment as Trident's operator creates it, before the shoot webhook mutates it. */
export function tridentControllerDeployment(): Record<string, unknown> {
  const labels = { app: TRIDENT_CONTROLLER_APP_LABEL };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: TRIDENT_CONTROLLER_DEPLOYMENT, namespace: SHOOT_SYSTEM_NAMESPACE, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "trident-main", image: "netapp/trident:25.06.2" }] } },
    },
  };
}

/** Trident's own CRDs that are not in the shoot yet, created as the operator does (no annotations of ours). */
export async function installTridentOwnCrds(shoot: KubeClient): Promise<void> {
  for (const crd of renderReleasedTridentCrds(TRIDENT_CRD_NAMES) as { metadata: { name: string } }[]) {
    if (await shoot.get(CustomResourceDefinitions, undefined, crd.metadata.name)) continue;
    await createIfAbsent(shoot, CustomResourceDefinitions, { ...crd, metadata: { name: crd.metadata.name } });
  }
}

export function startTridentOperatorStandIn(shoot: KubeClient, opts: { intervalMs?: number } = {}): TridentOperatorStandIn {
  let done = false;
  const loop = startPollingLoop(async () => {
    if (done || !(await shoot.get(Deployments, SHOOT_SYSTEM_NAMESPACE, TRIDENT_OPERATOR_NAME))) return;
    await installTridentOwnCrds(shoot);
    if (!(await shoot.get(DaemonSets, SHOOT_SYSTEM_NAMESPACE, TRIDENT_NODE_DAEMONSET))) await createIfAbsent(shoot, DaemonSets, tridentNodeDaemonSet());
    if (!(await shoot.get(Deployments, SHOOT_SYSTEM_NAMESPACE, TRIDENT_CONTROLLER_DEPLOYMENT))) {
      await createIfAbsent(shoot, Deployments, tridentControllerDeployment());
    }
    done = true;
  }, opts.intervalMs ?? 250);
  return { stop: loop.stop };
}

async function createIfAbsent(shoot: KubeClient, type: ResourceType, obj: object): Promise<void> {
  await shoot.create(type, obj).catch((err: unknown) => {
    // gardener-resource-manager (for CRDs) or an earlier round may have created it a moment ago.
    if (!isAlreadyExists(err)) throw err;
  });
}
