import path from "node:path";
import { Command } from "commander";
import { startTestEnvWithShoot } from "./shoot.js";
import { startTestEnv, stopTestEnvInDir } from "./apiserver.js";

/**
 * `npm run testenv -- up --dir DIR [--with-shoot [--shoot-namespace NS]...]`: starts etcd + kube-apiserver (the
 * seed) and, with --with-shoot, a second pair playing the shoot plus gardener-resource-manager applying the
 * seed's ManagedResources to it; leaves everything running and prints one JSON line.
 * `npm run testenv -- down --dir DIR`: stops them and removes their data.
 */
const program = new Command().name("testenv").description("a real kube-apiserver + etcd for tests and the demo");

program
  .command("up")
  .description("start etcd and kube-apiserver (a previous run's leftovers in DIR are stopped first)")
  .requiredOption("--dir <dir>", "directory for certificates, etcd data, logs, pid files and the kubeconfig")
  .option("--with-shoot", "also start a shoot kube-apiserver + etcd and gardener-resource-manager (seed -> shoot)")
  .option(
    "--shoot-namespace <namespace>",
    "seed namespace whose ManagedResources reach the shoot (repeatable; default: every namespace)",
    (value: string, previous: string[]) => [...previous, value],
    [] as string[],
  )
  .action(async (opts: { dir: string; withShoot?: boolean; shootNamespace: string[] }) => {
    if (opts.withShoot) {
      const env = await startTestEnvWithShoot({ dir: path.resolve(opts.dir), namespaces: opts.shootNamespace });
      process.stdout.write(
        `${JSON.stringify({
          ready: true,
          kubeconfig: env.kubeconfigPath,
          shootKubeconfig: env.shoot.kubeconfigPath,
          resourceManager: {
            healthUrl: env.shoot.resourceManager.healthUrl,
            metricsUrl: env.shoot.resourceManager.metricsUrl,
            log: env.shoot.resourceManager.logFile,
            namespaces: env.shoot.resourceManager.namespaces.length > 0 ? env.shoot.resourceManager.namespaces : "all",
          },
        })}\n`,
      );
      return;
    }
    if (opts.shootNamespace.length > 0) throw new Error("--shoot-namespace needs --with-shoot");
    const env = await startTestEnv({ dir: path.resolve(opts.dir) });
    process.stdout.write(`${JSON.stringify({ ready: true, kubeconfig: env.kubeconfigPath })}\n`);
  });

program
  .command("down")
  .description("stop everything started with `up --dir DIR` (the shoot and its resource manager too) and remove their data")
  .requiredOption("--dir <dir>", "the directory given to `up`")
  .action(async (opts: { dir: string }) => {
    await stopTestEnvInDir(opts.dir);
    process.stdout.write(`${JSON.stringify({ stopped: true, dir: path.resolve(opts.dir) })}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = (error as { code?: string }).code ?? "ERROR";
  process.stderr.write(`testenv: ${code}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
