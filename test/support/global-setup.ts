import type { TestProject } from "vitest/node";
import { startTestEnv } from "../../src/testenv/index.js";

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
 * One kube-apiserver + etcd for the whole integration run: starting one costs seconds of both cores, and
 * tests isolate themselves by namespace instead.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const env = await startTestEnv();
  process.stderr.write(`testenv: kube-apiserver ready at ${env.server} in ${Date.now() - started}ms (${env.dir})\n`);
  project.provide("testenv", {
    kubeconfigPath: env.kubeconfigPath,
    server: env.server,
    token: env.token,
    caFile: env.caFile,
  });
  return async () => {
    await env.stop();
  };
}
