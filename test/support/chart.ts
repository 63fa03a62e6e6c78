import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { cacheDir } from "../../src/testenv/index.js";

const run = promisify(execFile);
export const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");
export const CHART_DIR = path.join(REPO_ROOT, "charts", "gardener-extension-ontap");

/** A rendered Kubernetes object, loosely typed: tests read the fields they assert on. */
export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are free-form
  [field: string]: any;
}

/**
 * The helm and promtool that hack/build-chart-tools.sh built from their Go modules (HELM_BIN / PROMTOOL_BIN
 * override). `npm test` builds them first; a missing one is an error saying how to build it.
 */
export function chartTools(): { helm: string; promtool: string } {
  const envFile = path.join(cacheDir(), "bin", "chart-tools.env");
  const fromFile: Record<string, string> = {};
  if (existsSync(envFile)) {
    for (const line of readFileSync(envFile, "utf8").split("\n")) {
      const [key, ...rest] = line.split("=");
      if (key) fromFile[key] = rest.join("=");
    }
  }
  const helm = process.env.HELM_BIN ?? fromFile.HELM ?? "";
  const promtool = process.env.PROMTOOL_BIN ?? fromFile.PROMTOOL ?? "";
  if (!helm || !existsSync(helm)) throw new Error(`helm not built: run bash hack/build-chart-tools.sh (looked in ${envFile})`);
  return { helm, promtool };
}

export async function helm(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(chartTools().helm, args, { cwd: REPO_ROOT, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, HELM_CACHE_HOME: path.join(cacheDir(), "helm-home") } });
}

/** Writes values to a file next to the test's other files and returns its path. */
export function writeValues(dir: string, name: string, values: unknown): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, stringify(values), { mode: 0o600 });
  return file;
}

let packaged: Promise<string> | undefined;

/**
 * The chart as it ships (metal-stack's charts are `helm package`d and pushed as OCI artifacts, chart version =
 * app version): packaged once per test process into a temporary directory; the tests render and install this
 * archive, not the directory.
 */
export function packagedChart(): Promise<string> {
  packaged ??= (async () => {
    const destination = mkdtempSync(path.join(tmpdir(), "chart-package-"));
    const { stdout } = await helm(["package", CHART_DIR, "--destination", destination]);
    const archive = /saved it to: (.+\.tgz)/.exec(stdout)?.[1]?.trim();
    if (!archive || !existsSync(archive)) throw new Error(`helm package did not say where it saved the chart: ${stdout}`);
    return archive;
  })();
  return packaged;
}

/** `helm template` as gardenlet renders the chart: release name `ontap`, the given namespace and values files. */
export async function renderChart(opts: { namespace: string; valuesFiles?: string[]; release?: string }): Promise<RenderedObject[]> {
  const args = ["template", opts.release ?? "ontap", await packagedChart(), "--namespace", opts.namespace];
  for (const f of opts.valuesFiles ?? []) args.push("--values", f);
  const { stdout } = await helm(args);
  return parseManifests(stdout);
}

/** YAML 1.1, as Kubernetes and helm read manifests: `defaultMode: 0400` is octal there (256), not 400. */
export function parseManifests(text: string): RenderedObject[] {
  return parseAllDocuments(text, { version: "1.1" })
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${doc.errors[0]?.message}`);
      return doc.toJS() as RenderedObject | null;
    })
    .filter((o): o is RenderedObject => o !== null && typeof o === "object");
}

export function findObject(objects: RenderedObject[], kind: string, name?: string): RenderedObject {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!found) throw new Error(`rendered chart has no ${kind}${name ? ` ${name}` : ""}: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return found;
}

/** One entry of metal-roles' `gardener_extension_ontap_clusters` (defaults/main/ontap.yaml): the Go extension's format. */
export interface GoClusterEntry {
  name: string;
  ipaddress: string;
  username: string;
  password: string;
}

/**
 * The values metal-roles gives the chart, in exactly its shape (metal-stack/metal-roles
 * control-plane/roles/gardener-extensions/templates/ontap.yaml at 56b5da2, 2026-08-20): `image` with
 * repository, tag and pullPolicy, and `config.clusters` as the Ansible variable holds it, nothing else.
 */
export function metalRolesValues(clusters: GoClusterEntry[], image = { repository: "ghcr.io/metal-stack/gardener-extension-ontap", tag: "v0.2.20" }) {
  return {
    image: { repository: image.repository, tag: image.tag, pullPolicy: "IfNotPresent" },
    config: { clusters },
  };
}

/**
 * Every place a password shows up in rendered objects other than Secrets: as itself or base64-encoded, in any
 * string field (ConfigMap data, annotations, args, env). Empty when the chart keeps them in Secrets only.
 */
export function passwordsOutsideSecrets(objects: RenderedObject[], passwords: string[]): string[] {
  const found: string[] = [];
  const forms = passwords.flatMap((p) => [p, Buffer.from(p, "utf8").toString("base64")]);
  const walk = (value: unknown, where: string) => {
    if (typeof value === "string") {
      if (forms.some((f) => value.includes(f))) found.push(where);
    } else if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, `${where}[${i}]`);
    } else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`);
  };
  for (const o of objects) if (o.kind !== "Secret") walk(o, `${o.kind}/${o.metadata.name}`);
  return found;
}
