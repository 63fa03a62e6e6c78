import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 20_000,
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
          // A scenario waits out client timeouts and backoff; the soak runs for minutes on its own.
          testTimeout: 300_000,
          hookTimeout: 600_000,
          // Fault-matrix scenarios wait for a free lane; more of them in flight than lanes keeps every lane busy.
          maxConcurrency: 10,
          fileParallelism: false,
          globalSetup: ["test/support/global-setup.ts", "test/support/chaos-report.ts"],
        },
      },
    ],
  },
});
