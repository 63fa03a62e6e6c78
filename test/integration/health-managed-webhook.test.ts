import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningController, startController } from "../../src/process-assembly.js";
import { loadKubeConfig } from "../../src/kube/config.js";
import type { Condition } from "../../src/extension/types.js";
import { SYSTEM_COMPONENTS_HEALTHY } from "../../src/health/evaluate.js";
import { Namespaces } from "../../src/kube/resources.js";
import { createLogger } from "../../src/log.js";
import { freePorts } from "../../src/testenv/index.js";
import { eventually, testEnv } from "../support/kube-test-helpers.js";
import { createWorld, type Shoot, type World } from "../support/world.js";

/**
 * The storage health check probes the self-managed shoot webhook (`run` with its own certificates, the chart's
 * mode): at the Service URL the shoots use, trusting the CA bundle of the moment. The Service name does not
 * resolve here, so the probe dials the webhook's loopback port (`healthProbeDialAddress`) and still checks the
 * certificate against the Service name, as a shoot's API server does.
 *
 * Runs on the stand-in resource manager (src/testenv/fake-resource-manager.ts) on purpose: a test shoot's
 * kube-apiserver (src/testenv/shoot.ts, on loopback with the host's resolver, no cluster DNS, no egress proxy)
 * cannot reach the webhook by its Service name either, and what is under test is the probe, not what the
 * resource manager applies (shoot-health.test.ts covers that on the real one, with the loopback webhook).
 */
const SERVICE = "gardener-extension-ontap-webhook";

let world: World | undefined;
let running: RunningController | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
  await world?.close();
  world = undefined;
});

describe("storage health check: the self-managed shoot webhook", () => {
  it("says it is reachable at its Service, says when it is not and what to check, and clears once it answers again", { timeout: 120_000 }, async () => {
    world = await createWorld({ startController: false, resourceManager: "stand-in" });
    const namespace = `extension-ontap-${randomBytes(3).toString("hex").slice(0, 5)}`;
    await world.kube.create(Namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    const [port] = await freePorts(1);
    const start = () =>
      startController({
        config: { ...world!.config, shootWebhook: undefined, healthCheck: { intervalMs: 300 } },
        kubeconfig: loadKubeConfig(testEnv().kubeconfigPath),
        logger: createLogger({ level: "info", stream: new Writable({ write: (_c, _e, cb) => cb() }) }),
        healthPort: 0,
        host: "127.0.0.1",
        handleSignals: false,
        pollMs: 150,
        resyncMs: 0,
        shutdownTimeoutMs: 5000,
        managedWebhook: { namespace, serviceName: SERVICE, servicePort: 443, port: port!, host: "127.0.0.1", healthProbeDialAddress: `127.0.0.1:${port}` },
      });
    running = await start();
    expect(running.webhook?.url).toBe(`https://${SERVICE}.${namespace}:443/shoot`);
    const shoot: Shoot = await world.createShoot({ project: `hw${randomBytes(2).toString("hex")}`, dataLifs: ["10.130.60.11"], managementLif: "10.130.60.10" });
    await world.waitSucceeded(shoot, 60_000);

    const systemCondition = async (): Promise<Condition | undefined> =>
      (await world!.extension(shoot))?.status?.conditions?.find((c) => c.type === SYSTEM_COMPONENTS_HEALTHY);
    await eventually(async () => expect(await systemCondition()).toMatchObject({ status: "True", message: "All health checks successful; the shoot webhook is reachable" }), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });

    // The webhook server goes away, the controller keeps running: the probe is refused at the port.
    await running.webhook!.server.stop();
    const down = await eventually(
      async () => {
        const c = await systemCondition();
        expect(c?.status).toBe("False");
        return c!;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(down.message).toMatch(/shoot webhook: unreachable \([^)]*ECONNREFUSED[^)]*\).*check the extension's pod and its webhook Service/);

    // A new process serves it again on the same port with the certificates kept in the namespace's Secrets.
    await running.stop();
    running = await start();
    await eventually(async () => expect(await systemCondition()).toMatchObject({ status: "True", message: "All health checks successful; the shoot webhook is reachable" }), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
  });
});
