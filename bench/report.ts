/** docs/performance.md from bench/results.json: ratios first, then one table per scenario. */
import type { AtRestFigures, AtRestMeasure } from "./at-rest.js";
import type { GoSideBySideRow } from "./go-side-by-side.js";
import type { FleetResult, NoopResult, RecoveryResult, TimeToReadyResult } from "./scenarios.js";
import { type IdleResult, renderIdle } from "./idle.js";

interface Machine {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  loadAverageAtStart: number[];
  note: string;
}

const yes = (ok: boolean) => (ok ? "met" : "**not met**");

export function renderPerformanceDoc(results: Record<string, unknown>): string {
  const machine = results.machine as Machine;
  const noop = results.noop as NoopResult | undefined;
  const ttr = results.timeToReady as { latencyProfile: TimeToReadyResult; simulatorDefault: TimeToReadyResult } | undefined;
  const fleet = (results.fleet as FleetResult[] | undefined) ?? [];
  const recovery = results.recovery as RecoveryResult | undefined;
  const date = String(results.date);
  const where = `${date}, ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}, load average at start ${machine.loadAverageAtStart.join(" / ")}`;
  // A partial run keeps the other scenarios' figures: each section names the run that produced it.
  const sources = (results.sources ?? {}) as Record<string, { command: string; date: string; loadAverageAtStart: number[]; loadAverageAtEnd?: number[] } | undefined>;
  const madeBy = (scenario: string) => {
    const s = sources[scenario];
    if (!s) return `\`npm run bench -- --full --only ${scenario}\` · ${where}`;
    const end = s.loadAverageAtEnd ? `, at end ${s.loadAverageAtEnd.join(" / ")}` : "";
    return `\`${s.command}\` · ${s.date}, ${machine.cores} cores (${machine.cpuModel}), load average (1 / 5 / 15 min) at start ${s.loadAverageAtStart.join(" / ")}${end}`;
  };
  const goRows = (results.goSideBySide as GoSideBySideRow[] | undefined) ?? [];
  const lines: string[] = [];
  const p = (s = "") => lines.push(s);
  p("# Performance");
  p();
  p(`Measured by \`npm run bench -- --full\` (bench/reconcile.ts); the last run was \`${String(results.command)}\` on ${where}, and took ${String(results.benchSeconds)} s.`);
  p("Each section names the run that produced its figures and the load around it. Raw figures: `bench/results.json`.");
  p();
  p(`> ${machine.note}. Wall times and CPU milliseconds here are upper bounds; request counts are exact.`);
  p();
  p("Each scenario starts its own kube-apiserver + etcd, a 2-cluster simulated MetroCluster (in the benchmark");
  p("process) and the controller as its own process (`node dist/cli.js run`), whose CPU and peak RSS (VmHWM) are");
  p("read from `/proc/<pid>`. ONTAP requests are counted by the simulator, concurrency is the simulator's peak of");
  p("requests in flight per cluster, and Kubernetes requests come from the controller's own metrics.");
  p();
  p("## Ratios");
  p();
  p("| measure | value | goal |");
  p("|---|---|---|");
  if (noop) {
    p(`| ONTAP requests per no-op reconcile | ${noop.ontapRequestsPerNoop} | ≤ 3 (${yes(noop.ontapRequestsPerNoop <= 3)}) |`);
    p(`| Kubernetes writes per requested no-op reconcile | ${noop.kubeWritesPerNoop} | ≤ 2 (${yes(noop.kubeWritesPerNoop <= 2)}) |`);
    p(`| controller CPU per no-op reconcile | ${noop.cpuMsPerNoop} ms | (reported) |`);
  }
  if (ttr) {
    const l = ttr.latencyProfile;
    p(`| first shoot / critical path (${l.profile}) | ${l.firstShootOverCriticalPath}x (${l.firstShootMs} / ${l.criticalPathFirstMs} ms) | ≤ 1.2x (${yes(l.firstShootOverCriticalPath <= 1.2)}) |`);
    p(`| second shoot / critical path | ${l.secondShootOverCriticalPath}x (${l.secondShootMs} / ${l.criticalPathSecondMs} ms) | ≤ 1.2x (${yes(l.secondShootOverCriticalPath <= 1.2)}) |`);
    const d = ttr.simulatorDefault;
    p(`| new shoot to Succeeded, ${d.profile} | ${(d.firstShootMs / 1000).toFixed(2)} s | < 2.7 s, the Go extension (${yes(d.firstShootMs < 2700)}) |`);
  }
  const big = fleet.at(-1);
  if (big) {
    p(`| controller peak RSS at ${big.extensions} Extensions | ${big.controllerPeakRssMiB} MiB (${((big.controllerPeakRssMiB / big.extensions) * 1000).toFixed(0)} MiB per 1,000) | ≤ 256 MiB at 1,000 (${yes(big.extensions < 1000 || big.controllerPeakRssMiB <= 256)}) |`);
    p(`| peak concurrent ONTAP requests per cluster | ${big.peakConcurrentOntapRequestsPerCluster.join(" / ")} | ≤ cap ${big.maxConcurrentPerCluster} (${yes(!big.capExceeded)}) |`);
  }
  if (recovery) {
    p(`| requests per second to an unreachable cluster | ${recovery.requestsPerSecondAfterFirst5Seconds} (after the first 5 s) | bounded: 1 probe/s (${yes(recovery.requestsPerSecondAfterFirst5Seconds <= 1.5)}) |`);
    p(`| seconds until every affected Extension converged once it answered | ${recovery.secondsUntilEveryAffectedConverged} | ≤ 10 (${yes(recovery.secondsUntilEveryAffectedConverged <= 10)}) |`);
  }
  p();

  if (noop) {
    p("## noop");
    p();
    p(madeBy("noop"));
    p();
    p(`${noop.shoots} settled shoots over ${noop.projects} projects; Gardener's \`reconcile\` annotation on every one, ${noop.rounds} rounds; medians of the per-round averages. Profile: ${noop.profile}.`);
    p();
    p("| measure | median | per round |");
    p("|---|---|---|");
    p(`| ONTAP requests per no-op | ${noop.ontapRequestsPerNoop} | ${noop.ontapRequestsPerNoopByRound.join(", ")} |`);
    p(`| Kubernetes requests per no-op | ${noop.kubeRequestsPerNoop} | |`);
    p(`| Kubernetes writes per no-op | ${noop.kubeWritesPerNoop} | |`);
    p(`| controller CPU ms per no-op | ${noop.cpuMsPerNoop} | ${noop.cpuMsPerNoopByRound.join(", ")} |`);
    p();
    p("The 3 ONTAP requests: one SVM lookup per cluster (it brings the SVM's `ip_interfaces`, so the LIF check costs");
    p("nothing more) and one authentication as the shoot's user. The Kubernetes write consumes the annotation; the");
    p("read is the seed Secret. CPU includes handling the watch events of the annotation and its removal.");
    p();
  }
  if (ttr) {
    for (const [label, r] of [
      ["latency profile", ttr.latencyProfile],
      ["simulator default", ttr.simulatorDefault],
    ] as const) {
      p(`## timeToReady (${label})`);
      p();
      p(madeBy("timeToReady"));
      p();
      p(`Profile: ${r.profile}. Wall time from the Extension's creation to \`Succeeded\`, for the first shoot of a project and then a second one; ${r.projects} projects, medians.`);
      p();
      p("| shoot | median | per project | critical path | ratio |");
      p("|---|---|---|---|---|");
      p(`| first | ${r.firstShootMs} ms | ${r.firstShootMsByProject.join(", ")} | ${r.criticalPathFirstMs} ms | ${r.firstShootOverCriticalPath}x |`);
      p(`| second | ${r.secondShootMs} ms | ${r.secondShootMsByProject.join(", ")} | ${r.criticalPathSecondMs} ms | ${r.secondShootOverCriticalPath}x |`);
      p();
      if (label === "latency profile") {
        p("Critical path of a first shoot (the ONTAP calls that must follow one another):");
        p();
        for (const [i, c] of r.criticalPathFirst.entries()) p(`${i + 1}. ${c}`);
        p();
        p("Of a second shoot (the SVM and its LIFs exist):");
        p();
        for (const [i, c] of r.criticalPathSecond.entries()) p(`${i + 1}. ${c}`);
        p();
        p("Not on the path, but in the measured time: the Kubernetes writes (finalizer, status, seed Secret twice,");
        p("ManagedResources and their Secrets), the resource manager marking `trident-crds` healthy, and the second");
        p("pass that follows it (one SVM lookup and one password proof again).");
        p();
      }
    }
  }
  if (fleet.length > 0) {
    p("## fleet");
    p();
    p(madeBy("fleet"));
    p();
    p(`N Extensions over N/5 projects created at once (32 at a time from the benchmark), profile: ${fleet[0]?.profile}; per-cluster cap ${fleet[0]?.maxConcurrentPerCluster}, ${fleet[0]?.workers} workers. One run per size (a 1,000 run takes minutes). The controller ran with \`node ${(fleet[0]?.controllerNodeFlags ?? []).join(" ")}\` (read from its /proc/<pid>/cmdline; the image's ENTRYPOINT flags).`);
    p();
    p("| Extensions | projects | Cluster object | wall until all Succeeded | p50 / p95 / p99 time to ready | peak ONTAP requests in flight per cluster | ONTAP requests (per Extension) | controller peak RSS | controller CPU |");
    p("|---|---|---|---|---|---|---|---|---|");
    for (const f of fleet) {
      p(`| ${f.extensions} | ${f.projects} | ${f.clusterObjectKiB ?? "?"} KiB | ${f.wallSecondsUntilAllSucceeded} s | ${f.timeToReadySeconds.p50} / ${f.timeToReadySeconds.p95} / ${f.timeToReadySeconds.p99} s | ${f.peakConcurrentOntapRequestsPerCluster.join(" / ")} | ${f.ontapRequestsTotal} (${f.ontapRequestsPerExtension}) | ${f.controllerPeakRssMiB} MiB | ${f.controllerCpuSeconds} s |`);
    }
    p();
  }
  if (recovery) {
    p("## recovery");
    p();
    p(madeBy("recovery"));
    p();
    p(`A settled fleet of ${recovery.extensions}; ${recovery.unreachableCluster} stops answering (every connection reset) for ${recovery.downSeconds} s, during which Gardener asks every Extension to reconcile, so each fails (no SVM lookup may count as absent) and backs off; then it answers again. Breaker: opens after ${recovery.breaker.consecutiveFailures} requests in a row without an answer, probes once per ${recovery.breaker.probeIntervalSeconds} s. Profile: ${recovery.profile}.`);
    p();
    p("| measure | value |");
    p("|---|---|");
    p(`| requests to the unreachable cluster while down | ${recovery.requestsToDownClusterWhileDown} (${recovery.requestsPerSecondToDownClusterWhileDown}/s) |`);
    p(`| of those after the first 5 s | ${recovery.requestsToDownClusterAfterFirst5Seconds} (${recovery.requestsPerSecondAfterFirst5Seconds}/s) |`);
    p(`| affected Extensions (not Succeeded when it came back) | ${recovery.affectedExtensions} |`);
    p(`| most consecutive failures of one Extension; its backoff ceiling | ${recovery.maxConsecutiveFailures}; ${recovery.maxBackoffCeilingSeconds} s |`);
    p(`| seconds from the cluster's return until every affected Extension Succeeded | ${recovery.secondsUntilEveryAffectedConverged} |`);
    if (recovery.convergence) {
      const c = recovery.convergence;
      p(`| per affected Extension while converging: controller CPU; Kubernetes requests (writes); ONTAP requests | ${c.controllerCpuMsPerExtension} ms; ${c.kubeRequestsPerExtension} (${c.kubeWritesPerExtension}); ${c.ontapRequestsPerExtension} |`);
    }
    p();
    p("The burst before the breaker opens is the requests already in flight or sent before 5 failures in a row;");
    p("after that the cluster sees one probe per second. When a probe is answered the breaker closes and enqueues");
    p("every Extension that was refused or failed on that cluster meanwhile, whatever its backoff had reached.");
    p();
  }
  // bench/idle.ts: the controller at rest.
  if (results.idle) lines.push(...renderIdle(results.idle as IdleResult, madeBy("idle")));
  if (goRows.length > 0) {
    p("## beside the Go extension");
    p();
    p(madeBy("goSideBySide"));
    p();
    p(`The fleet scenario run twice in one world each, once with the Go extension (${goRows[0]?.goBinary}, built from metal-stack/gardener-extension-ontap outside this repository: bench/go-side-by-side.ts says how and why) and once with this controller, one after the other: the same simulator (each cluster's management interface on its own address at port 443, as the Go extension dials it), profile ${goRows[0]?.profile}, the same kube-apiserver, stand-in resource manager, Clusters and Extensions; both at their chart's default of ${goRows[0]?.workers} concurrent reconciles (this one with its per-cluster cap of 8 ONTAP requests; the Go extension has none). A ratio is this controller's figure over the Go extension's: below 1 is ahead.`);
    p();
    p("| shoots | Cluster object | measure | Go extension | this one | ratio |");
    p("|---|---|---|---|---|---|");
    for (const r of goRows) {
      const row = (label: string, key: keyof GoSideBySideRow["ratio"], unit: string) =>
        p(`| ${r.shoots} | ${r.clusterObjectKiB} KiB | ${label} | ${r.go[key]}${unit} | ${r.ts[key]}${unit} | ${r.ratio[key]}x |`);
      row("wall time until all Succeeded", "wallSeconds", " s");
      row("p95 time to Succeeded", "p95Seconds", " s");
      row("controller CPU for the creates", "controllerCpuSeconds", " s");
      row("controller peak RSS", "controllerPeakRssMiB", " MiB");
      row("ONTAP requests per shoot (create)", "ontapRequestsPerShoot", "");
      const [goIdle, tsIdle] = [r.go.idle, r.ts.idle];
      if (goIdle && tsIdle) {
        const rest = (label: string, key: AtRestMeasure, unit: string) => {
          const ratio = r.ratio.idle?.[key];
          p(`| ${r.shoots} | ${r.clusterObjectKiB} KiB | at rest (${tsIdle.seconds} s): ${label} | ${goIdle[key]}${unit} | ${tsIdle[key]}${unit} | ${ratio === null || ratio === undefined ? "— (Go: 0)" : `${ratio}x`} |`);
        };
        rest("ONTAP requests per second per cluster", "ontapRequestsPerSecondPerCluster", "");
        rest("Kubernetes requests per second", "kubeRequestsPerSecond", "");
        rest("Kubernetes writes per second", "kubeWritesPerSecond", "");
        rest("controller CPU, % of one core", "controllerCpuPercent", "");
      }
    }
    p();
    for (const r of goRows) {
      p(`- ${r.shoots} shoots${r.command ? ` (\`${r.command}\`, ${r.date?.slice(0, 16).replace("T", " ")} UTC)` : ""}: load average at start ${r.loadAverageAtStart.join(" / ")}; peak ONTAP requests in flight per cluster: Go ${r.go.peakConcurrentOntapRequestsPerCluster.join(" / ")}, this one ${r.ts.peakConcurrentOntapRequestsPerCluster.join(" / ")}; goal for the creates (each figure at most the Go extension's) ${yes(r.goalMet)}.`);
      if (r.go.idle && r.ts.idle) {
        const kinds = (f: AtRestFigures) => Object.entries(f.kubeRequestsPerSecondByKind).map(([k, n]) => `${k} ${n}`).join(", ") || "none";
        p(`  At rest: goal the idle key's absolute goals (≤ 2 ONTAP requests per second per cluster at 1,000 shoots, CPU ≤ 5% of a core, writes only when something changed), not the Go extension's figures (it checks nothing at rest; this one proves each shoot's password once per period): ${yes(r.idleGoalMet ?? false)}. Kubernetes requests per second by verb and resource, Go: ${kinds(r.go.idle)}; this one: ${kinds(r.ts.idle)}${r.ts.idle.kubeRequestsPerSecondOwnMetrics !== undefined ? ` (its own kube_requests_total in the same window: ${r.ts.idle.kubeRequestsPerSecondOwnMetrics} per second)` : ""}.`);
      }
    }
    p();
    if (goRows.some((r) => r.go.idle)) {
      p("At rest: after a side's creates have all Succeeded, in the same world, a window in which nothing is asked of it, measured for both sides as bench/at-rest.ts measures the idle key: ONTAP requests at the simulator, CPU from /proc, and Kubernetes requests at kube-apiserver, from its audit log of the controller's own user (Metadata level, one event per request, watches included), since the Go extension has no metric of its own for them. Before it, this controller waits until its health check has looked at every shoot (the first round's proofs are a one-off), then both until no ONTAP request came for 2 s. This controller runs with `--resync-minutes 0` there, as in the idle key; the Go extension with its defaults.");
      p();
    }
  }
  p("## Findings of 2026-12-06 afternoon: at rest, and memory beside the Go extension (issue 24; not regenerated)");
  p();
  p("- At rest at 1,000 shoots, main d9dc906 sent 28 Kubernetes requests per second: the health check's shoot-side part");
  p("  read each shoot's access Secret (`shoot-access-extension-ontap-health`) with a GET in every 30-s round, 1,000 GETs");
  p("  a round (in the bench each ends \"token pending\": no shoot API server there). The Secrets now come from an");
  p("  informer on that one name (field selector `metadata.name`, which the chart's RBAC grants by name), keeping only");
  p("  the token and the CA bundle (`accessSecretProjection`): a token the requestor issues or renews arrives by the");
  p("  watch, so the next round uses it, as the GET did. The idle section above has the figures after, with the");
  p("  requests by verb and resource; `BENCH_INSPECT=1` adds a CPU profile of the idle window alone (bench/cpu-profile.ts).");
  p("- Where the peak RSS goes beside the Go extension (this controller alone, the side-by-side's fleet of 100 shoots,");
  p("  /proc and /metrics sampled every 0.5 s, load 27-39): before the first Extension 114 MiB (57 file-backed, the node");
  p("  binary's pages; 57 anonymous, of it V8's heap 46 with 16 of young generation); at the peak 149-150 MiB: 57");
  p("  file-backed, 92 anonymous = V8's heap 60 (young 16, old 31 with 30 in use, code 5.5, trusted 5.4) + external 6.6");
  p("  + about 26 outside V8's heap. The old space in use swings between 22 and 30 MiB during the creates (from 20 at");
  p("  rest): what is kept per shoot is small (the Cluster cache holds under 2 KiB a shoot). Importing the controller's");
  p("  modules alone (`node --expose-gc`, import dist/run-command.js, two GCs) is 96 MiB RSS and 21 MiB of heap in use, from a bare node");
  p("  of 42 MiB; each dependency alone from a bare node: undici +29 MiB RSS (its fetch +19 of it), prom-client +19, zod");
  p("  +18, yaml +12, pino +9 (they overlap: node's own net/tls/stream modules load once). So about 96 of the 120 MiB the");
  p("  Go extension peaks at are this process's runtime and code before any work; meeting it at 100 shoots needs fewer");
  p("  modules (the kube layer on undici's `request` instead of its fetch, a lighter schema library), not fewer objects.");
  p("- Node flags tried on the same fleet of 100 (each run alone, image flags otherwise, load 27-39; CPU for the creates):");
  p("  the image's (192 MiB old space, 8 MiB semi-space) 150 and 149 MiB (11.7 s, 10.6 s); `--max-semi-space-size=4` 143");
  p("  MiB (12.6 s); `MALLOC_ARENA_MAX=2` 145 MiB (10.9 s); semi-space 2 + `--v8-pool-size=1` + `MALLOC_ARENA_MAX=1` 132");
  p("  MiB (15.3 s, +40% CPU). None reaches the Go extension's 120 MiB, and the one that comes closest costs 40% more CPU:");
  p("  the image is left as it was (`N=100` fleet with `BENCH_NODE_FLAGS`, local script, sampled as above).");
  p("- What closed the gap at 100 shoots (issue 24; each step measured side by side at 100, `GO_EXTENSION_BIN=... BENCH_GO_SIZES=100");
  p("  npx tsx bench/reconcile.ts --full --only goSideBySide`, load 2-10, the Go extension 119-123 MiB and 9-12 s of CPU in");
  p("  the same runs): main eb8db96 151 MiB, 7.3 s CPU. (1) The kube, ONTAP and webhook-probe transports on node:https");
  p("  instead of undici (its index loads fetch, web streams, websockets and a WebAssembly HTTP parser; 320 requests to a");
  p("  local server cost +50 MiB RSS through undici's fetch, +13 through node:http): 131 MiB, 5.9 s. (2) @peculiar/x509");
  p("  imported only when a certificate is made, one TLS context per address (ONTAP) and per API server (kube), node:http");
  p("  required as CommonJS (its ESM namespace reads lazy WebSocket getters that load Node's own bundled undici: 745 KiB of");
  p("  source, the largest string in a heap snapshot at the peak): importing dist/run-command.js 90 -> 80 MiB, the peak");
  p("  still 130-131 MiB, 4.3-6.1 s. At that peak V8's heap was about 46 MiB (young 16, old 21, code 4, trusted 4) and");
  p("  the part outside it had grown by about 15 MiB during the creates. (3) The image: `--max-semi-space-size=4` alone");
  p("  119-124 MiB (6.7-6.8 s); `MALLOC_ARENA_MAX=1` alone 120 MiB (4.7 s); both 113 MiB (5.7 s): the image sets both");
  p("  (Dockerfile; the bench reads its ENV lines too). `--v8-pool-size=1` on top of semi-space 4 gained nothing (121 MiB).");
  p("  The image as committed, two runs: 120 and 114 MiB, 3.8 s of CPU each (the Go extension 123 and 120 MiB, 11.3 and 10.6 s).");
  p("- At 300 shoots this controller is at or below the Go extension on every figure (table above): the Go extension's");
  p("  peak RSS grows with the shoots (120 MiB at 100, 175 at 300) while this one's is mostly the fixed cost above (149");
  p("  at 100, 162 at 300). Both sides took about 380 s at load 27-39, so that run's wall times and p95 measure the");
  p("  machine (the shared kube-apiserver and etcd starved) more than either controller.");
  p();
  p("## Findings of 2026-12-06 (issue 24; not regenerated)");
  p();
  p("- In this release since the evening of 2026-12-06 (r2-reconcile c517f62 and 337cad3, re-done from f1-fleet 570bfcb in");
  p("  the observe/act shape): the writes after a new password reaches ONTAP no longer wait for its proof. The credentials");
  p("  step answers once the password is on ONTAP and stored (as `pendingPassword`, written before ONTAP saw it: secret");
  p("  first), and Trident is rendered and its ManagedResources and the webhook's written while the promotion and the proof");
  p("  run; `Succeeded` waits for the proof. A found SVM's placement record (`providerStatus`) runs beside the account lookup");
  p("  and the seed Secret write, every ONTAP write waiting for it. And the YAML of the objects every shoot shares is");
  p("  serialized once (src/trident/managed-resource.ts: render and serialize of one shoot's Trident 11.6 -> 2.5 ms in a");
  p("  loop of 100 shoots at load 4.8), which keeps the ManagedResource writes inside the proof's round trip when the");
  p("  machine is busy. The timeToReady section has the result: both shoots within 1.2x at load 1.3. What is left above");
  p("  the 4 ONTAP calls of a second shoot (`BENCH_LOG_LEVEL=debug npx tsx bench/trace.ts slow`, load 1.4, 246 ms): about");
  p("  5 ms from the Extension's create to the SVM lookup, 4, 3 and 8 ms between the calls, the Succeeded write (16 ms)");
  p("  and the watch that sees it. At load 5-7 the same change measured 271-307 ms (1.36-1.5x): the gaps are the");
  p("  controller's own CPU, and with 2 cores shared it waits for them; the chaos subsets for it (`CHAOS_FILTER='^(create|rotate) '`,");
  p("  248 scenarios, and the real resource manager's 25) all converged.");
  p("- 1,000 shoots with Clusters of 101 KiB (`realisticClusterObject`) and the image's node flags: all Succeeded, peak");
  p("  RSS 208 MiB (goal 256), at most 8 ONTAP requests in flight per cluster (the cap), at load 21-34 (the fleet section).");
  p("- The Go extension (metal-stack/gardener-extension-ontap 6e39aea, its HEAD; built unchanged by the recipe");
  p("  bench/go-side-by-side.ts names, outside the repository) beside this one at 100 shoots: the section above (load");
  p("  1.2-6). Its build took 68 min of wall time at load 25-37 (compiling Gardener's and ontap-go's generated");
  p("  packages). It ran on the simulator with one gap closed in the simulator, none patched in its source: it takes a");
  p("  bare IP address per cluster and dials https://<ip>/api at port 443 (`managementAddresses`). The second thing it");
  p("  needs is its working directory at its source tree (it reads charts/trident/resources relative to it), a matter of");
  p("  how it is started, not of the simulator. This controller is behind on peak RSS (1.24x: 149 against 120 MiB) and");
  p("  ahead on the rest. 300 shoots were not run (time).");
  p();
  p("## Where the time and the memory go (findings of 2026-12-01, not regenerated)");
  p();
  p("- Time to ready: `npx tsx bench/trace.ts slow` (with `BENCH_LOG_LEVEL=debug`: the controller's reconciles,");
  p("  requeues and Kubernetes requests in the same timeline). Since `trident-crds` is written at the start of the");
  p("  first pass there is no second pass for a new shoot. Since 2026-12-01 evening the SVM lookup (and the seed");
  p("  Secret read) no longer wait for the finalizer and Processing writes: the operation starts at once and only its");
  p("  writes wait for the finalizer (8 ms to the first ONTAP call instead of 186 ms at load about 10); and a cluster's");
  p("  first SVM job is polled at the duration its MetroCluster sibling measured, where it was seen up to a third late");
  p("  (the first job after a start still is). What is left above the critical path are the Kubernetes writes a create");
  p("  needs in order after the password proof: the seed Secret's promotion, each ManagedResource's Secret, then the");
  p("  ManagedResources, then Succeeded (5-15 ms each on an idle API server, 50-200 ms on a loaded one), plus the");
  p("  rendering of the Trident manifests. They are not in the profile's critical path, which counts ONTAP calls only.");
  p("- Memory: `@kubernetes/client-node` is no longer loaded by the controller (own kubeconfig loader and request");
  p("  authentication in `src/kube/`; the library is a devDependency for the tests). The modules `run` loads, after a");
  p("  forced GC: RSS 140-150 -> 99 MiB, heap used 38.2 -> 20.2 MiB (`node --expose-gc` importing");
  p("  `dist/run-command.js` and `dist/process-assembly.js`, three fresh processes each).");
  p("- Until 2026-12-01 evening the benchmark did not pass the image's node flags to the controller (it read them and");
  p("  dropped them): every earlier fleet figure (493 MiB at 1,000) is of a controller without a heap limit. Sampled");
  p("  from its /proc and /metrics every second at 300 Extensions: with no flags, 383 MiB peak RSS and 259 MiB of V8");
  p("  heap committed for 40-120 MiB in use; with the old space limited to 192 MiB, 292 MiB RSS and 180-190 MiB");
  p("  committed, of it up to 49 MiB young space in use, for an old space of 30-45 MiB in use. So the young generation");
  p("  is what grows: `--max-semi-space-size=8` gave 175 MiB, `=4` 166 MiB, each at 300 Extensions under load about 11");
  p("  (`BENCH_NODE_FLAGS='--max-old-space-size=192 --max-semi-space-size=8' BENCH_FLEET_SIZES=300 npm run bench --");
  p("  --full --only fleet`), and 221 MiB at 1,000. The image ships 192 + 8 (Dockerfile); the price is CPU spent in");
  p("  more scavenges, in the fleet table's CPU column.");
  p("- The fleet run above saw 9 requests in flight per cluster against a cap of 8: the periodic health check proved");
  p("  passwords at the management LIFs through clients of its own, outside the gate. It goes through the gate since");
  p("  (after this run); the reconciles' proofs already did.");
  p();
  return `${lines.join("\n")}\n`;
}
