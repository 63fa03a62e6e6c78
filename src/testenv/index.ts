/**
 * The test world, as controller-runtime keeps pkg/envtest: real processes where they can run here, stand-ins
 * (each saying why) where they cannot. Used by test/, bench/ and the demo; never by the controller, and not
 * part of the image (tsconfig.build.json leaves this folder out; test/unit/image-contents.test.ts checks it).
 *
 * - apiserver.ts: the seed's kube-apiserver + etcd (`startTestEnv`), CRDs, kubeconfig
 * - shoot.ts: a shoot's kube-apiserver + etcd and the real gardener-resource-manager (`startShootEnv`)
 * - shoot-worlds.ts: one such shoot per shoot namespace, started on demand and reused (`startShootWorlds`)
 * - shoot-workloads.ts: the rollout status and foreground-deletion finalizer removal of a shoot's missing controllers
 * - trident-operator.ts: what Trident's operator does in a shoot (its 15 CRDs, its node DaemonSet and controller Deployment)
 * - world.ts: the one world builder of the tests, the benchmark and the demo (`buildWorld`): seed, simulated
 *   ONTAP, fault proxy, the shoot webhook on loopback (loopback-webhook.ts), what applies ManagedResources
 * - fake-resource-manager.ts: marks ManagedResources healthy where no shoot runs (unit tests, tests that say
 *   why; the watching variant for the benchmark's fleet)
 * - fault-proxy.ts: faults at the wire between a client and kube-apiserver
 * - gardener-objects.ts: what Gardener creates before an Extension (namespace, Cluster)
 * - extension-readiness.ts: how gardenlet requests an operation and decides it is done (Gardener's own check)
 * - ca.ts: the one CA every server of the world gets its certificate from
 * - fake-kube.ts: the in-memory Kubernetes of the unit tests
 * - processes.ts, binaries.ts, http.ts, errors.ts: the launcher's plumbing
 * - cli.ts: `npm run testenv -- up|down`
 */
export { crdDir, installCrds, readCrds, renderKubeconfig, startTestEnv, stopTestEnvInDir, type TestEnv } from "./apiserver.js";
export { cacheDir, resolveBinaries } from "./binaries.js";
export { type ControllerConfigFileOptions, type OntapClusterAccess, writeControllerConfig } from "./controller-config.js";
export { createTestCa, generateServingCert, type ServingCert, type TestCa, testCa } from "./ca.js";
export { TestEnvError } from "./errors.js";
export {
  type CheckedExtension,
  checkExtensionObject,
  extensionMigration,
  extensionReadiness,
  formatRfc3339Nano,
  GARDENER_OPERATION,
  GARDENER_TIMESTAMP,
  gardenletRequest,
  gardenletTimestamp,
  isExtensionReady,
} from "./extension-readiness.js";
export { createFakeKubeClient } from "./fake-kube.js";
export { type FakeResourceManager, healthyStatus, startFakeResourceManager, startWatchingResourceManager } from "./fake-resource-manager.js";
export { type FaultProxy, type FaultProxyOptions, pathTemplate, type ProxiedRequest, reasonFor, startFaultProxy, statusBody } from "./fault-proxy.js";
export {
  type CloudProfileShape,
  cloudProfileShapeOfKiB,
  clusterObject,
  jsonKiB,
  METAL_CLOUD_PROFILE_SHAPE,
  metalCloudProfile,
  metalSeed,
  metalShoot,
  PROJECT_ANNOTATION,
  realisticClusterObject,
  type ShootIdentity,
  shootNamespaceObject,
} from "./gardener-objects.js";
export { imageEnvironment, imageNodeFlags, withOldSpaceMiB } from "./image-flags.js";
export { type LoopbackWebhook, startLoopbackWebhook } from "./loopback-webhook.js";
export { startPollingLoop } from "./polling-loop.js";
export { freePorts, isAlive, sleep, TESTENV_ROOT } from "./processes.js";
export { type ShootEnv, type ShootEnvOptions, startShootEnv, startTestEnvWithShoot, type TestEnvWithShoot } from "./shoot.js";
export { type ShootWorkloads, startShootWorkloads } from "./shoot-workloads.js";
export { type ShootSide, type ShootWorlds, type ShootWorldsOptions, startShootWorlds } from "./shoot-worlds.js";
export { installTridentOwnCrds, startTridentOperatorStandIn, type TridentOperatorStandIn } from "./trident-operator.js";
export { type BuiltWorld, buildWorld, type ResourceManagerChoice, type SeedAccess, type WorldBuildOptions, type WorldPart } from "./world.js";
