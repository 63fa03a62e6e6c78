import { parse as parseYaml } from "yaml";
import { ConstraintError, parseConstraint, parseVersion, satisfies } from "./version-constraint.js";

/**
 * Gardener's image vector (`charts/images.yaml`, github.com/gardener/gardener pkg/utils/imagevector): every image
 * this extension puts into a shoot, each with an optional `targetVersion` range of the shoot's Kubernetes
 * version, and an overwrite (the chart value `imageVectorOverwrite`, mounted as a file named by
 * `IMAGEVECTOR_OVERWRITE`) merged over it by Gardener's rules.
 */
export interface ImageSource {
  name: string;
  sourceRepository?: string;
  repository?: string;
  tag?: string;
  ref?: string;
  version?: string;
  runtimeVersion?: string;
  targetVersion?: string;
  architectures?: string[];
}

export type ImageVector = readonly ImageSource[];

export const IMAGEVECTOR_OVERWRITE_ENV = "IMAGEVECTOR_OVERWRITE";

export class ImageVectorError extends Error {
  override readonly name = "ImageVectorError";
  readonly code = "ERR_CONFIGURATION_PROBLEM";
  readonly transient = false;
}

const STRING_FIELDS = ["name", "sourceRepository", "repository", "tag", "ref", "version", "runtimeVersion", "targetVersion"] as const;

/**
 * Reads an image vector document (`images: [...]`). Every invalid field is named as `<source>: images[i].<field>`
 * with what to write instead, as Gardener's `ValidateImageVector` checks it; a `caBundle` is refused (not used).
 */
export function parseImageVector(text: string, source: string): ImageSource[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const e = err as { linePos?: { line: number; col: number }[] };
    const at = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
    throw new ImageVectorError(`${source}: not valid YAML${at}; write \`images:\` followed by a list of images`);
  }
  if (doc === null || doc === undefined) return [];
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new ImageVectorError(`${source}: must be a mapping with the key \`images\` (a list), as Gardener's image vector`);
  }
  const images = (doc as { images?: unknown }).images;
  if (images === undefined || images === null) return [];
  if (!Array.isArray(images)) throw new ImageVectorError(`${source}: images must be a list of {name, repository, tag, targetVersion}`);
  const problems: string[] = [];
  const out = images.map((raw, i): ImageSource => {
    const at = `images[${i}]`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      problems.push(`${at}: must be a mapping with name, repository and tag`);
      return { name: "" };
    }
    const entry = raw as Record<string, unknown>;
    const image: Record<string, unknown> = {};
    for (const field of STRING_FIELDS) {
      const value = entry[field];
      if (value === undefined || value === null) continue;
      if (typeof value !== "string" && typeof value !== "number") {
        problems.push(`${at}.${field}: must be a string`);
        continue;
      }
      image[field] = String(value);
    }
    if (entry["architectures"] !== undefined) {
      const archs = entry["architectures"];
      if (Array.isArray(archs) && archs.every((a) => typeof a === "string")) image["architectures"] = archs;
      else problems.push(`${at}.architectures: must be a list of strings (amd64, arm64)`);
    }
    const result = image as unknown as ImageSource;
    if (!result.name) problems.push(`${at}.name: is required (the image's name, e.g. trident-operator)`);
    if (result.ref === undefined && result.repository === undefined) {
      problems.push(`${at}: either ref or repository (+ tag) is required`);
    }
    if (result.ref !== undefined) {
      if (result.ref === "") problems.push(`${at}.ref: must not be empty if specified`);
      if (result.repository !== undefined) problems.push(`${at}.repository: cannot be set with ref`);
      if (result.tag !== undefined) problems.push(`${at}.tag: cannot be set with ref`);
    } else {
      if (result.repository === "") problems.push(`${at}.repository: must not be empty if specified`);
      if (result.tag === "") problems.push(`${at}.tag: must not be empty if specified`);
    }
    for (const field of ["targetVersion", "runtimeVersion"] as const) {
      const constraint = result[field];
      if (constraint === undefined) continue;
      try {
        parseConstraint(constraint);
      } catch (err) {
        if (!(err instanceof ConstraintError)) throw err;
        problems.push(`${at}.${field}: ${err.message}; write a range such as ">= 1.34, < 1.35"`);
      }
    }
    return result;
  });
  if (problems.length > 0) throw new ImageVectorError(`${source}: ${problems.join("; ")}`);
  return out;
}

function keyOf(s: ImageSource): string {
  return JSON.stringify([s.name, s.runtimeVersion ?? "", s.targetVersion ?? "", (s.architectures ?? []).join("")]);
}

/**
 * Gardener's `MergeImageVectors`: an overwrite entry with the same name, targetVersion, runtimeVersion and
 * architectures replaces the fields it sets (a `ref` drops repository and tag); any other entry is added.
 */
export function mergeImageVectors(...vectors: ImageVector[]): ImageSource[] {
  const out: ImageSource[] = [];
  const index = new Map<string, number>();
  for (const vector of vectors) {
    for (const image of vector) {
      const key = keyOf(image);
      const at = index.get(key);
      if (at === undefined) {
        index.set(key, out.length);
        out.push({ ...image });
        continue;
      }
      out[at] = mergeSources(out[at]!, image);
    }
  }
  return out;
}

function mergeSources(old: ImageSource, override: ImageSource): ImageSource {
  let repository = override.repository ?? old.repository;
  let tag = override.tag ?? old.tag;
  const version = override.version ?? old.version ?? (tag !== undefined ? old.tag : undefined);
  const ref = override.ref ?? (override.repository === undefined ? old.ref : undefined);
  if (ref !== undefined) {
    repository = undefined;
    tag = undefined;
  }
  const merged: ImageSource = {
    name: override.name,
    sourceRepository: override.sourceRepository ?? old.sourceRepository,
    repository,
    tag,
    ref,
    version,
    runtimeVersion: override.runtimeVersion ?? old.runtimeVersion,
    targetVersion: override.targetVersion ?? old.targetVersion,
    architectures: override.architectures ?? old.architectures,
  };
  for (const k of Object.keys(merged) as (keyof ImageSource)[]) if (merged[k] === undefined) delete merged[k];
  return merged;
}

/** One image found: the reference to pull and the entry it came from. */
export interface ResolvedImage {
  name: string;
  image: string;
  source: ImageSource;
}

/**
 * Gardener's `FindImage` for a shoot's Kubernetes version: among the entries of `name`, those whose targetVersion
 * the version meets; an exact constraint (one starting with a version or `=`) beats a range, a range beats none,
 * the first wins a tie. Undefined when none matches.
 */
export function findImage(vector: ImageVector, name: string, targetVersion?: string): ResolvedImage | undefined {
  const target = targetVersion === undefined ? undefined : parseVersion(targetVersion);
  if (targetVersion !== undefined && target === undefined) {
    throw new ImageVectorError(`Kubernetes version ${JSON.stringify(targetVersion)} is not a version (x.y.z)`);
  }
  let best: ImageSource | undefined;
  let bestScore = -1;
  for (const source of vector) {
    if (source.name !== name) continue;
    let score = 0;
    if (source.targetVersion !== undefined && target !== undefined) {
      if (!satisfies(target, source.targetVersion)) continue;
      score = /^\s*(v?\d+\.\d+\.\d+|=)/.test(source.targetVersion) ? 2 : 1;
    }
    if (score > bestScore) {
      best = source;
      bestScore = score;
    }
  }
  return best ? { name, image: imageReference(best), source: best } : undefined;
}

/** `repository:tag`, `repository@sha256:…` for a digest tag, or the ref as it is. */
export function imageReference(source: ImageSource): string {
  if (source.ref !== undefined) return source.ref;
  const repository = source.repository ?? "";
  if (source.tag === undefined) return repository;
  return source.tag.startsWith("sha256:") ? `${repository}@${source.tag}` : `${repository}:${source.tag}`;
}
