#!/usr/bin/env node
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
  .action(async (opts) => {
    const { runSimulatorCommand } = await import("./simulator/cli.js");
    await runSimulatorCommand(opts);
  });

await program.parseAsync(process.argv);
