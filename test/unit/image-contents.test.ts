import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { REPO_ROOT, reachableFrom, rel, SRC, sourceFiles } from "../support/import-graph.js";

/**
 * The image holds what `npm run build` (tsc -p tsconfig.build.json) emits from src/, and nothing a test needs:
 * the test world (src/testenv: launcher, fault proxy, stand-ins, the in-memory Kubernetes) and the demo that
 * starts it (src/demo). Two ways in would break that: a production module importing one of them (tsc follows
 * imports past `exclude`), or the build configuration listing them.
 */
const TEST_ONLY = ["src/testenv/", "src/demo/"];
const isTestOnly = (file: string) => TEST_ONLY.some((dir) => rel(file).startsWith(dir));

// A TypeScript program over the whole build: seconds when idle, beyond the unit default of 20 s on a loaded machine.
describe("the image's contents", { timeout: 120_000 }, () => {
  it("the entry point's production commands (run, sim, doctor) reach no test-only module", () => {
    const reached = reachableFrom(path.join(SRC, "cli.ts"));
    // The walk follows the lazy `import()` of each subcommand, so it sees what the image would load.
    for (const entry of ["src/run-command.ts", "src/simulator/cli.ts", "src/doctor/command.ts", "src/process-assembly.ts"]) {
      expect([...reached.keys()].map(rel), entry).toContain(entry);
    }
    const leaks = [...reached.entries()].filter(([file]) => isTestOnly(file)).map(([, via]) => via.map(rel).join(" -> "));
    expect(leaks).toEqual([]);
  });

  it("the build compiles no test-only module, and the Dockerfile ships only that build", () => {
    const configFile = path.join(REPO_ROOT, "tsconfig.build.json");
    const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    expect(parsed?.errors ?? ["unreadable"]).toEqual([]);
    const program = ts.createProgram({ rootNames: parsed!.fileNames, options: parsed!.options });
    const compiled = program.getSourceFiles().map((f) => path.resolve(f.fileName)).filter((f) => f.startsWith(`${SRC}${path.sep}`));
    expect(compiled.map(rel)).toContain("src/cli.ts");
    expect(compiled.filter(isTestOnly).map(rel)).toEqual([]);

    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toBe("tsc -p tsconfig.build.json");
    const dockerfile = readFileSync(path.join(REPO_ROOT, "Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/RUN npm run build/);
    // The final stage takes dist/ and the production node_modules, not the sources.
    const final = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(final.match(/^COPY .*$/gm)).toEqual([
      "COPY --from=build /src/package.json ./",
      "COPY --from=build /src/node_modules ./node_modules",
      "COPY --from=build /src/dist ./dist",
      // The image vector the controller resolves shoot images from: at /app/charts/images.yaml, where
      // dist/config/component-config.js finds it (../../charts/images.yaml), as in a checkout.
      "COPY charts/images.yaml ./charts/images.yaml",
    ]);
  });

  it("@kubernetes/client-node is a devDependency for the tests, and src/ outside the test world never loads it", () => {
    // Its root module loads the whole generated API: about 100 MiB of the controller's RSS before any work.
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies)).not.toContain("@kubernetes/client-node");
    expect(Object.keys(pkg.devDependencies)).toContain("@kubernetes/client-node");
    const loads: string[] = [];
    for (const file of sourceFiles(SRC).filter((f) => !rel(f).startsWith("src/testenv/"))) {
      const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
      const visit = (node: ts.Node) => {
        const specifier = ts.isImportDeclaration(node) || ts.isExportDeclaration(node)
          ? node.moduleSpecifier
          : ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword
            ? node.arguments[0]
            : undefined;
        if (specifier && ts.isStringLiteral(specifier) && specifier.text.startsWith("@kubernetes/client-node")) {
          const clause = ts.isImportDeclaration(node) ? node.importClause : undefined;
          const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
          const typeOnly = Boolean(clause && (clause.isTypeOnly || (!clause.name && named?.length && named.every((e) => e.isTypeOnly))));
          if (!typeOnly) loads.push(rel(file));
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(loads).toEqual([]);
  });
});
