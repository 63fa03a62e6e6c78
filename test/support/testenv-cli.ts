import path from "node:path";
import { Command } from "commander";
import { startTestEnv, stopTestEnvInDir } from "./testenv.js";

/**
 * `npm run testenv -- up --dir DIR`: starts etcd + kube-apiserver, leaves them running, prints one JSON line.
 * `npm run testenv -- down --dir DIR`: stops them and removes their data.
 */
const program = new Command().name("testenv").description("a real kube-apiserver + etcd for tests and the demo");

program
  .command("up")
  .description("start etcd and kube-apiserver (a previous run's leftovers in DIR are stopped first)")
  .requiredOption("--dir <dir>", "directory for certificates, etcd data, logs, pid files and the kubeconfig")
  .action(async (opts: { dir: string }) => {
    const env = await startTestEnv({ dir: path.resolve(opts.dir) });
    process.stdout.write(`${JSON.stringify({ ready: true, kubeconfig: env.kubeconfigPath })}\n`);
  });

program
  .command("down")
  .description("stop etcd and kube-apiserver started with `up --dir DIR` and remove their data")
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
