import path from "node:path";
import { describe, expect, it } from "vitest";
import { cycles, importsOf, rel, SRC, sourceFiles } from "../support/import-graph.js";

/**
 * Dependencies under src/ point one way only (docs/architecture.md draws the map). A layer is a folder of
 * src/, or a file at its top. Each may import only the layers listed here; adding an edge means changing this
 * table, in the open. The generic parts know nothing of Gardener or ONTAP: runtime/ (controller machinery),
 * kube/ and ontap/ (clients). extension/ is the Gardener contract and knows nothing of ONTAP; only
 * ontap-extension/ joins them, and only the process assembly (process-assembly.ts) wires everything.
 */
const MAY_IMPORT: Record<string, string[]> = {
  log: [],
  metrics: [],
  faults: [],
  kube: ["log", "metrics"],
  ontap: ["log", "metrics"],
  runtime: ["kube", "log", "metrics"],
  // kube: the object types only (kube/objects.ts), one metadata type for every layer.
  trident: ["kube"],
  config: ["trident"],
  webhook: ["trident", "kube", "log", "metrics"],
  extension: ["runtime", "kube", "log", "metrics"],
  "ontap-extension": ["extension", "runtime", "kube", "ontap", "observation", "trident", "webhook", "config", "log", "metrics"],
  // Typed observations of ONTAP resources and the bulk cluster inventory: the client's reads, nothing else.
  observation: ["ontap"],
  // The diagnosis reads both worlds as the controller would, but is no part of the process: no runtime, no assembly.
  diagnosis: ["observation", "ontap-extension", "extension", "kube", "ontap", "trident", "config", "log", "metrics"],
  // The doctor command: the diagnosis, its clients, its rendering.
  doctor: ["diagnosis", "kube", "ontap", "config"],
  // ontap-extension: the password is proven where and as the actuator proves it (verifiers.ts).
  health: ["diagnosis", "observation", "ontap-extension", "extension", "kube", "ontap", "trident", "webhook", "config", "log", "metrics"],
  // An independent ONTAP: it shares no code with the client, so a client bug is not mirrored by a simulator bug.
  simulator: ["faults"],
  "startup-check": ["config", "ontap", "log"],
  "process-assembly": ["runtime", "extension", "ontap-extension", "health", "webhook", "trident", "kube", "ontap", "config", "startup-check", "log", "metrics"],
  // ontap: the test/lab dial map (--ontap-dial-map-file) is installed before the process is assembled.
  "run-command": ["process-assembly", "webhook", "kube", "ontap", "config", "log"],
  cli: ["run-command", "doctor", "simulator"],
  // The test world may use the production parts it stands beside, never the process assembly or the demo;
  // simulator: the world builder (testenv/world.ts) starts the simulated ONTAP clusters.
  testenv: ["kube", "faults", "webhook", "trident", "runtime", "simulator", "log", "metrics"],
  demo: ["testenv", "process-assembly", "doctor", "diagnosis", "simulator", "webhook", "trident", "extension", "kube", "ontap", "config", "log", "metrics"],
};

const layerOf = (file: string) => path.relative(SRC, file).split(path.sep)[0]!.replace(/\.ts$/, "");

const files = sourceFiles(SRC);
const imports = new Map(files.map((f) => [f, importsOf(f)]));

// Parses every module under src/: seconds when idle, more than the unit default of 20 s on a loaded machine.
describe("import rules under src/", { timeout: 120_000 }, () => {
  it("every layer is in the table", () => {
    expect([...new Set(files.map(layerOf))].filter((l) => !(l in MAY_IMPORT))).toEqual([]);
  });

  it("no layer imports one it may not", () => {
    const forbidden: string[] = [];
    for (const [file, list] of imports) {
      const from = layerOf(file);
      for (const { target } of list) {
        const to = layerOf(target);
        if (to !== from && !MAY_IMPORT[from]?.includes(to)) forbidden.push(`${rel(file)} -> ${rel(target)} (${from} may not import ${to})`);
      }
    }
    expect(forbidden).toEqual([]);
  });

  it("the layers form no cycle (the table itself allows none)", () => {
    const layers = new Map(Object.entries(MAY_IMPORT));
    expect(cycles(layers)).toEqual([]);
  });

  it("no module cycle through imports that run (type-only imports are erased and cannot form one at run time)", () => {
    const graph = new Map([...imports].map(([file, list]) => [file, list.filter((i) => !i.typeOnly).map((i) => i.target)]));
    expect(cycles(graph).map((c) => c.map(rel))).toEqual([]);
  });

  it("the checks see real edges (a broken parser would pass everything)", () => {
    const edges = [...imports.values()].reduce((n, list) => n + list.length, 0);
    expect(edges).toBeGreaterThan(200);
    const controller = imports.get(path.join(SRC, "process-assembly.ts"))!.map((i) => rel(i.target));
    expect(controller).toContain("src/extension/predicate.ts");
    expect(cycles(new Map([["a", ["b"]], ["b", ["a"]], ["c", ["a"]]]))).toEqual([["a", "b"]]);
  });
});
