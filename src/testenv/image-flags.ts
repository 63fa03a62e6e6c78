import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Node's flags from the image's ENTRYPOINT (the heap limits), so a benchmark or a process-level test runs the
 * controller with the heap it ships with.
 */
export function imageNodeFlags(dockerfile = readFileSync(path.join(repoRoot, "Dockerfile"), "utf8")): string[] {
  const line = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
  const argv = line ? (JSON.parse(line) as string[]) : [];
  if (argv[0] !== "node" || !argv.includes("/app/dist/cli.js")) throw new Error('Dockerfile: ENTRYPOINT is not ["node", ..., "/app/dist/cli.js"]');
  return argv.slice(1, argv.indexOf("/app/dist/cli.js"));
}

/** `flags` with `--max-old-space-size` set to `mib` (replaced, or added). */
export function withOldSpaceMiB(flags: readonly string[], mib: number): string[] {
  return [...flags.filter((f) => !f.startsWith("--max-old-space-size=")), `--max-old-space-size=${mib}`];
}

/**
 * The environment the image's last stage sets (`ENV NAME=value` lines after the last FROM), such as the allocator's
 * `MALLOC_ARENA_MAX`: with the flags above, what a benchmark starts the controller with so it runs as it ships.
 */
export function imageEnvironment(dockerfile = readFileSync(path.join(repoRoot, "Dockerfile"), "utf8")): Record<string, string> {
  const lastStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  const env: Record<string, string> = {};
  for (const [, name, value] of lastStage.matchAll(/^ENV ([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/gm)) env[name as string] = value as string;
  return env;
}
