#!/usr/bin/env node
import { existsSync } from "node:fs";
import { Command } from "commander";

/**
 * One binary, one subcommand per job. Each subcommand's module is imported only when it runs,
 * so `sim` does not load the Kubernetes client and `run` does not load the simulator.
 */
const program = new Command()
  .name("gardener-extension-ontap")
  .description("Gardener extension: NetApp ONTAP block storage (NVMe/TCP, Trident) for metal-stack shoots")
  .showHelpAfterError();

program
  .command("sim")
  .description("run the ONTAP REST simulator (one HTTPS port per simulated cluster)")
  .option("--clusters <n>", "number of simulated clusters (2 = a MetroCluster pair)", "1")
  .option("--latency-ms <ms>", "added latency per request", "0")
  .option("--job-ms <ms>", "duration of asynchronous jobs (SVM create/delete)", "200")
  .option("--cert-dir <dir>", "where the generated CA and server certificates are written")
  .option("--no-bgp", "simulate clusters without BGP peer groups")
  .option("--seed <n>", "seed for probabilistic fault rules", "1")
  .option("--svm-login-on-cluster", "lenient: let SVM accounts log in on the cluster interface too (default: only at their SVM management LIF)")
  .action(async (opts) => {
    const { runSimulatorCommand } = await import("./simulator/cli.js");
    await runSimulatorCommand(opts);
  });

program
  .command("run")
  .description("run the extension controller against the seed's API server")
  .requiredOption("--config <file>", "component configuration (YAML): ONTAP clusters, policies")
  .option("--kubeconfig <file>", "kubeconfig of the seed (default: in-cluster or $KUBECONFIG)")
  .option("--max-concurrent-reconciles <n>", "parallel reconciles (Extensions of one project never run together)", "5")
  .option("--leader-elect", "elect a leader on a Lease (default: on inside a cluster)")
  .option("--no-leader-elect", "run without leader election")
  .option(
    "--leader-election-namespace <ns>",
    "namespace of the leader Lease (default: $LEADER_ELECTION_NAMESPACE, else $POD_NAMESPACE, else garden)",
    process.env.LEADER_ELECTION_NAMESPACE || process.env.POD_NAMESPACE || "garden",
  )
  .option("--leader-election-id <name>", "name of the leader Lease", "gardener-extension-ontap-leader-election")
  .option("--lease-duration-seconds <s>", "leader lease duration", "15")
  .option("--renew-deadline-seconds <s>", "a leader that cannot renew for this long steps down", "10")
  .option("--retry-period-seconds <s>", "interval of lease acquire/renew attempts", "2")
  .option("--health-port <port>", "port of /healthz, /readyz (and /metrics without --metrics-port)", "8081")
  .option("--metrics-port <port>", "separate port for /metrics")
  .option("--log-level <level>", "trace, debug, info, warn, error (default: LOG_LEVEL from the environment, else info)")
  .option("--log-file <path>", "write JSON logs to this file instead of stdout")
  .option("--webhook-port <port>", "port of the shoot webhook server", "9443")
  .option("--no-webhook", "serve no shoot webhook")
  .option(
    "--webhook-namespace <ns>",
    "namespace of the webhook Service and of its certificate Secrets (default: $POD_NAMESPACE; unset: no webhook unless cert files are given)",
    process.env.POD_NAMESPACE || undefined,
  )
  .option("--webhook-service-name <name>", "the Service the shoots' API servers reach the webhook through", "gardener-extension-extension-ontap")
  .option("--webhook-service-port <port>", "port of that Service", "443")
  .option("--webhook-max-concurrent-reviews <n>", "admission reviews handled at once; more are answered 429", "8")
  .option("--webhook-cert-file <file>", "hand-made TLS certificate of the shoot webhook server (default: generated and rotated)")
  .option("--webhook-key-file <file>", "hand-made TLS key of the shoot webhook server")
  .option(
    "--heartbeat-namespace <ns>",
    "namespace of Gardener's heartbeat Lease gardener-extension-heartbeat (default: $POD_NAMESPACE; unset: no heartbeat)",
    process.env.POD_NAMESPACE || undefined,
  )
  .option("--heartbeat-renew-interval-seconds <s>", "how often the leader renews the heartbeat Lease", "30")
  .option("--poll-seconds <s>", "re-check interval for things not ready yet (SVM jobs, CRDs)", "2")
  .option("--resync-minutes <m>", "re-verify every Extension this often (password and LIF drift)", "10")
  .option(
    "--ontap-dial-map-file <file...>",
    'TEST/LAB ONLY: JSON {"<address>[:<port>]": "https://<host>:<port>"}; ONTAP connections to a listed address go there instead (re-read at each connection)',
  )
  .action(async (opts) => {
    const { runControllerCommand } = await import("./run-command.js");
    await runControllerCommand(opts);
  });

program
  .command("doctor")
  .description("read-only diagnosis of one shoot's storage (or of every shoot): expected against actual, a verdict, the next action")
  .requiredOption("--config <file>", "the controller's component configuration (YAML): ONTAP clusters and their credentials")
  .option("--kubeconfig <file>", "kubeconfig of the seed (default: in-cluster or $KUBECONFIG)")
  .option("--namespace <ns>", "the shoot's namespace on the seed (shoot--<project>--<shoot>); default: every shoot")
  .option("-o, --output <format>", "table or json", "table")
  .option("--verbose", "with several shoots, print the rows of healthy shoots too")
  .option("--timeout-seconds <s>", "per-request timeout for ONTAP and Kubernetes reads", "10")
  .action(async (opts) => {
    const { runDoctorCommand } = await import("./doctor/command.js");
    process.exitCode = await runDoctorCommand(opts);
  });

program
  .command("demo")
  .description("the whole system on this machine: kube-apiserver, a simulated MetroCluster, the controller, three shoots and the article's failure")
  .option("--keep", "leave everything running at the end and print how to reach it; Ctrl-C stops it")
  .option("--no-tty", "print plain progress lines instead of redrawing a live view (CI, pipes)")
  .action(async (opts) => {
    const demo = await importDemo();
    if (!demo) {
      process.stderr.write(
        "demo: not in this build; it runs from a source checkout, where it finds hack/ (CRDs, the recipe for kube-apiserver, etcd and gardener-resource-manager): npm ci && npm run demo\n",
      );
      process.exitCode = 2;
      return;
    }
    process.exitCode = await demo.runDemoCommand(opts);
  });

/**
 * The demo and the test world it starts (src/demo, src/testenv) are left out of the image: tsconfig.build.json
 * does not compile them, and the specifier is not a literal so that tsc does not pull them in through this
 * import (test/unit/image-contents.test.ts holds both). Under tsx, from the sources, the file is there.
 */
async function importDemo(): Promise<{ runDemoCommand(opts: { keep?: boolean; tty?: boolean }): Promise<number> } | undefined> {
  const specifier: string = "./demo/command.js";
  try {
    return await import(specifier);
  } catch (error) {
    // Only the demo's own absence means "not in this build"; a module missing inside it is a real error.
    const present = [specifier, specifier.replace(/\.js$/, ".ts")].some((file) => existsSync(new URL(file, import.meta.url)));
    if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND" && !present) return undefined;
    throw error;
  }
}

await program.parseAsync(process.argv);
