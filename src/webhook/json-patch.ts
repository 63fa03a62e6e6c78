/**
 * RFC 6902 operations that turn `before` into `after`. Hand-written because the webhook needs only this one
 * direction and no installed library provides it: objects are compared key by key, anything else (arrays
 * included) is replaced as a whole, which is always a correct patch and keeps it short for our mutations.
 */
export type JsonPatchOperation =
  | { op: "add"; path: string; value: unknown }
  | { op: "replace"; path: string; value: unknown }
  | { op: "remove"; path: string };

export function diffToJsonPatch(before: unknown, after: unknown): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  diff(before, after, "", ops);
  return ops;
}

function diff(before: unknown, after: unknown, path: string, ops: JsonPatchOperation[]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of Object.keys(before)) {
      if (!Object.hasOwn(after, key)) ops.push({ op: "remove", path: `${path}/${escapePointer(key)}` });
    }
    for (const [key, value] of Object.entries(after)) {
      const childPath = `${path}/${escapePointer(key)}`;
      if (!Object.hasOwn(before, key)) ops.push({ op: "add", path: childPath, value });
      else diff(before[key], value, childPath, ops);
    }
    return;
  }
  if (!deepEqual(before, after)) ops.push({ op: "replace", path, value: after });
}

/** RFC 6901: `~` and `/` in a key are escaped. */
export function escapePointer(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
