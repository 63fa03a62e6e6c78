import type { TestProject } from "vitest/node";
import { startTestEnv, type TestEnv } from "../../src/testenv/index.js";

/** What the integration test files get through `inject("testenv")`. */
export interface ProvidedTestEnv {
  kubeconfigPath: string;
  server: string;
  token: string;
  caFile: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    testenv: ProvidedTestEnv;
  }
}

/**
 * Shared by the projects of one run that name this setup (chaos and chaos-grm), stopped by the last one's
 * teardown. Kept on globalThis: vitest loads a global setup module once per project.
 */
const shared = globalThis as { ontapTestEnv?: { env: Promise<TestEnv>; users: number } };

/**
 * One kube-apiserver + etcd for the whole integration run: starting one costs seconds of both cores, and
 * tests isolate themselves by namespace instead.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const first = shared.ontapTestEnv === undefined;
  shared.ontapTestEnv ??= { env: startTestEnv(), users: 0 };
  const holder = shared.ontapTestEnv;
  holder.users++;
  const env = await holder.env;
  if (first) process.stderr.write(`testenv: kube-apiserver ready at ${env.server} in ${Date.now() - started}ms (${env.dir})\n`);
  project.provide("testenv", {
    kubeconfigPath: env.kubeconfigPath,
    server: env.server,
    token: env.token,
    caFile: env.caFile,
  });
  return async () => {
    if (--holder.users > 0) return;
    shared.ontapTestEnv = undefined;
    await env.stop();
  };
}
