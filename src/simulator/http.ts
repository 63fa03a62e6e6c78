import type { IncomingMessage } from "node:http";
import type { ZodType } from "zod";
import { Codes, invalidValue, missingField, SimError, unexpectedArgument } from "./errors.js";

/** Who is calling: the cluster administrator, or an account scoped to one SVM (with the role it logs in with). */
export type Identity = { kind: "cluster"; username: string } | { kind: "svm"; username: string; svmUuid: string; role: string };

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const MAX_BODY_BYTES = 1024 * 1024;

/** Reads the whole request body; refuses oversized bodies without buffering them. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new SimError(413, Codes.invalidJson, "Request body too large.");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The JSON type of a value, as the call log and the conformance suite name it. */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value === "object" ? "object" : typeof value;
}

/** Every dotted path of a JSON body (arrays descended without an index) with its JSON type; no values. */
export function bodyShape(raw: Buffer): Record<string, string> | undefined {
  if (raw.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch {
    return undefined;
  }
  const shape: Record<string, string> = {};
  const walk = (node: unknown, prefix: string): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item, prefix);
    } else if (node !== null && typeof node === "object") {
      for (const [key, item] of Object.entries(node)) {
        const path = prefix ? `${prefix}.${key}` : key;
        shape[path] = jsonTypeOf(item);
        walk(item, path);
      }
    }
  };
  walk(value, "");
  return shape;
}

/** Parses a JSON object body; an empty body is `undefined` so handlers can demand one. */
export function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch (error) {
    throw new SimError(400, Codes.invalidJson, `Invalid JSON input: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SimError(400, Codes.invalidJson, "Invalid JSON input: the body must be a JSON object.");
  }
  return value;
}

/**
 * Validates a body against a strict zod schema and maps the first issue to ONTAP's answer:
 * unknown field -> 262179 "Unexpected argument", missing -> required, anything else -> invalid value.
 */
export function parseBody<T>(schema: ZodType<T>, body: unknown): T {
  if (body === undefined) throw new SimError(400, Codes.invalidJson, "A JSON request body is required.");
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    throw unexpectedArgument(path ? `${path}.${key}` : key);
  }
  if (!hasPath(body, issue.path)) throw missingField(path);
  throw invalidValue(path || "(body)", issue.message);
}

function hasPath(value: unknown, path: readonly PropertyKey[]): boolean {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, key)) return false;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current !== undefined;
}
