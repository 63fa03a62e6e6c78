/**
 * Version constraints as Gardener's image vector writes them (`targetVersion: ">= 1.34, < 1.35"`), the subset of
 * Masterminds/semver that image vectors use: comparisons `=`, `!=`, `>`, `>=`, `<`, `<=`, a bare version (`=`),
 * wildcards (`1.34.x`), `~` (same minor) and `^` (same major); `,` or a space joins terms (and), `||` joins
 * groups (or). A version may carry a `v` and omit its patch (`1.34` is `1.34.0`); a pre-release or build suffix
 * of the version checked is ignored, as Gardener checks a shoot's `spec.kubernetes.version` (always x.y.z).
 */

export type Version = readonly [number, number, number];

export class ConstraintError extends Error {
  override readonly name = "ConstraintError";
}

const VERSION = /^v?(\d+)(?:\.(\d+|x|X|\*))?(?:\.(\d+|x|X|\*))?(?:[-+][0-9A-Za-z.+-]*)?$/;

interface Term {
  op: "=" | "!=" | ">" | ">=" | "<" | "<=";
  version: Version;
}

/** `1.34.2` → [1, 34, 2]; undefined when it is not a version. */
export function parseVersion(text: string): Version | undefined {
  const m = VERSION.exec(text.trim());
  if (!m || isWild(m[2]) || isWild(m[3])) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** Parses a constraint; throws ConstraintError saying what is wrong with it. */
export function parseConstraint(text: string): Term[][] {
  const groups = text.split("||").map((g) => g.trim());
  if (groups.some((g) => g === "")) throw new ConstraintError(`${JSON.stringify(text)} has an empty alternative around "||"`);
  return groups.map((group) => {
    // "< 1.35" and "<1.35" alike: glue an operator to the version after it, then split on commas and spaces.
    const tokens = group.replace(/(!=|>=|<=|=|>|<|~|\^)\s+/g, "$1").split(/[\s,]+/).filter((t) => t !== "");
    return tokens.flatMap((token) => termsOf(token, text));
  });
}

/** Whether `version` (x.y.z) meets `constraint`. */
export function satisfies(version: Version, constraint: string | Term[][]): boolean {
  const groups = typeof constraint === "string" ? parseConstraint(constraint) : constraint;
  return groups.some((terms) => terms.every((t) => holds(version, t)));
}

function holds(v: Version, { op, version }: Term): boolean {
  const c = compareVersions(v, version);
  switch (op) {
    case "=":
      return c === 0;
    case "!=":
      return c !== 0;
    case ">":
      return c > 0;
    case ">=":
      return c >= 0;
    case "<":
      return c < 0;
    case "<=":
      return c <= 0;
  }
}

function isWild(part: string | undefined): boolean {
  return part === "x" || part === "X" || part === "*";
}

function termsOf(token: string, whole: string): Term[] {
  const m = /^(!=|>=|<=|=|>|<|~|\^)?(.*)$/.exec(token)!;
  const op = m[1] ?? "=";
  const v = VERSION.exec(m[2]!);
  if (!v) throw new ConstraintError(`${JSON.stringify(whole)}: ${JSON.stringify(m[2])} is not a version (e.g. 1.34 or 1.34.2)`);
  const major = Number(v[1]);
  const minorWild = v[2] === undefined || isWild(v[2]);
  const patchWild = v[3] === undefined || isWild(v[3]);
  const minor = minorWild ? 0 : Number(v[2]);
  const patch = patchWild ? 0 : Number(v[3]);
  const base: Version = [major, minor, patch];
  // A range of versions: `1.34.x` (or `=1.34`) is [1.34.0, 1.35.0), `~1.34.2` is [1.34.2, 1.35.0), `^1.34` is [1.34.0, 2.0.0).
  const upperOf = (range: "minor" | "major"): Version => (range === "minor" && !minorWild ? [major, minor + 1, 0] : [major + 1, 0, 0]);
  switch (op) {
    case "~":
      return [{ op: ">=", version: base }, { op: "<", version: upperOf("minor") }];
    case "^":
      return [{ op: ">=", version: base }, { op: "<", version: upperOf("major") }];
    case "=":
      if (!patchWild && !minorWild) return [{ op: "=", version: base }];
      return [{ op: ">=", version: base }, { op: "<", version: upperOf(minorWild ? "major" : "minor") }];
    case "!=":
      return [{ op: "!=", version: base }];
    case ">":
      // `> 1.34` means after every 1.34.x, as Masterminds reads a partial version.
      return [{ op: patchWild ? ">=" : ">", version: patchWild ? upperOf(minorWild ? "major" : "minor") : base }];
    case "<=":
      return [{ op: patchWild ? "<" : "<=", version: patchWild ? upperOf(minorWild ? "major" : "minor") : base }];
    default:
      return [{ op: op as ">=" | "<", version: base }];
  }
}
