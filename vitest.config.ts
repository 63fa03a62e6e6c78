import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

const FAULT_MATRIX = "test/chaos/fault-matrix.test.ts";
/** The chaos file that runs with no other beside it (project chaos-grm). */
const CHAOS_ALONE = "test/chaos/fault-matrix-grm.test.ts";

/**
 * Vitest's order (unknown files first, then larger files, or longer ones once it has timings), except that the
 * stand-in fault matrix, the chaos suite's longest file by far, starts first: the other chaos files (but
 * fault-matrix-grm, project chaos-grm, which runs alone afterwards) then run one after another beside it, and
 * that part takes about as long as the longer of the two.
 */
class FaultMatrixFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const first = (f: TestSpecification) => f.project.name === "chaos" && f.moduleId.endsWith(FAULT_MATRIX);
    return [...sorted.filter(first), ...sorted.filter((f) => !first(f))];
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: FaultMatrixFirst },
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 20_000,
          // Vitest's default on two cores is one worker; the unit files share nothing (measured at load 9-11:
          // 89 s with one, 70 s with two, `npx vitest run --project unit [--maxWorkers 2]`).
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One kube-apiserver per run is shared through globalSetup; files run one at a time
          // because the machine has two cores and the controller tests measure request counts.
          fileParallelism: false,
          globalSetup: ["test/support/global-setup.ts"],
        },
      },
      {
        test: {
          name: "conformance",
          include: ["test/conformance/**/*.test.ts"],
          // Each test spawns NetApp's Python client (hack/vendor-client-venv.sh installs it).
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "chaos",
          include: ["test/chaos/**/*.test.ts"],
          exclude: [CHAOS_ALONE],
          // A scenario waits out client timeouts and backoff; the soak runs for minutes on its own.
          testTimeout: 300_000,
          hookTimeout: 600_000,
          // Two files at once (CHAOS_WORKERS says otherwise): the stand-in fault matrix in one worker from the
          // start (FaultMatrixFirst) and the state matrix, leadership, soak and call log one after another in
          // the other. Leadership and the soak mostly wait (Lease expiry, the soak's minute of faults), so they
          // cost the matrix little: in the clean-clone run of ca232c3, two at once, the chaos suite took 664 s
          // (the matrix 594 s beside the others against 338 s alone in the run of fabbaa3, the state matrix 224
          // against 176, leadership and soak unchanged), where one at a time took about 870 s at fabbaa3 and
          // 1072 s at fd12da0. Each file isolates itself (its own lanes, simulators, namespaces and shoots).
          fileParallelism: true,
          maxWorkers: Number(process.env.CHAOS_WORKERS ?? 2),
          // Before chaos-grm's group whatever maxWorkers is (a project of group 0 with one worker would run last).
          sequence: { groupOrder: 1 },
          globalSetup: ["test/support/global-setup.ts", "test/support/chaos-report.ts"],
        },
      },
      {
        test: {
          // fault-matrix-grm.test.ts alone, after the others (`sequence.groupOrder`): beside another file it
          // starves the real gardener-resource-manager it tests: in that run of ca232c3 two delete-last
          // scenarios waited over 60 s for it to delete a ManagedResource, which alone converge in 5-8 s.
          // The same global setups: one kube-apiserver for both projects, one docs/reliability.md.
          name: "chaos-grm",
          include: [CHAOS_ALONE],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
          globalSetup: ["test/support/global-setup.ts", "test/support/chaos-report.ts"],
        },
      },
    ],
  },
});
