import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
export const SRC = path.join(REPO_ROOT, "src");

/**
 * The relative imports of a TypeScript file, as the compiler reads them (`ts.preProcessFile`: static imports,
 * re-exports, `import type`, and `import("…")` with a literal), resolved from the `.js` specifier to the `.ts`
 * file on disk. Package imports (`node:…`, `zod`) are left out: they are not ours.
 */
export function relativeImports(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  const out: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith(".")) continue;
    const target = path.resolve(path.dirname(file), fileName);
    const candidates = [target.replace(/\.js$/, ".ts"), target, `${target}.ts`, path.join(target, "index.ts")];
    const found = candidates.find((c) => existsSync(c) && c.endsWith(".ts"));
    if (!found) throw new Error(`${path.relative(REPO_ROOT, file)} imports ${fileName}, which resolves to no .ts file`);
    out.push(found);
  }
  return out;
}

/** Every file reachable from `entry` through relative imports, each with the path it was first reached by. */
export function reachableFrom(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[entry, [entry]]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const next of relativeImports(file)) {
      if (seen.has(next)) continue;
      seen.set(next, [...seen.get(file)!, next]);
      queue.push(next);
    }
  }
  return seen;
}

/** Every .ts file below DIR. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** `src/kube/client.ts` for a path under the repository. */
export function rel(file: string): string {
  return path.relative(REPO_ROOT, file);
}
