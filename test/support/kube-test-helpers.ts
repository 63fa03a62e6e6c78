import { randomBytes } from "node:crypto";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { inject, onTestFinished } from "vitest";
import type { ProvidedTestEnv } from "./global-setup.js";

/** The environment that test/support/global-setup.ts started for this run. */
export function testEnv(): ProvidedTestEnv {
  const env = inject("testenv");
  if (!env) throw new Error("no test environment provided: is this file in the integration project?");
  return env;
}

/** A KubeConfig for the admin identity of the shared environment (or for the kubeconfig file given). */
export function loadKubeConfig(kubeconfigPath: string = testEnv().kubeconfigPath): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

/** A DNS-1123 label: `prefix-<8 hex>`, unique enough for one run. */
export function uniqueName(prefix = "t"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/**
 * Creates a namespace for one test and deletes it when the test finishes. The namespace is only marked for
 * deletion: without a namespace controller it stays Terminating and its objects stay in etcd, which is
 * harmless because every test uses a fresh name. `name` overrides the generated one (e.g. `shoot--p--s`).
 */
export async function freshNamespace(kc: KubeConfig, opts: { prefix?: string; name?: string } = {}): Promise<string> {
  const name = opts.name ?? uniqueName(opts.prefix ?? "test");
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name } } });
  onTestFinished(async () => {
    await deleteIgnoringNotFound(() => core.deleteNamespace({ name }));
  });
  return name;
}

/** HTTP status of a client-node error, or undefined for anything else (network errors, bugs). */
export function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** Runs `call` and returns the HTTP status of the ApiException it throws; fails the test if it succeeds. */
export async function expectApiError(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
  } catch (error) {
    const status = statusOf(error);
    if (status === undefined) throw error;
    return status;
  }
  throw new Error("expected the call to fail with an API error, but it succeeded");
}

export async function deleteIgnoringNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
}

/** Retries `check` until it stops throwing or the timeout passes; rethrows the last failure. */
export async function eventually<T>(
  check: () => Promise<T> | T,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 100));
    }
  }
}
