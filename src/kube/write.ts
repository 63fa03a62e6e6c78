import type { KubeObject } from "./objects.js";
import { requireNamespace, withTypeMeta } from "./read.js";
import type { KubeRequests, RequestSpec } from "./request.js";
import type { ResourceType } from "./resources.js";

export interface DeleteOptions {
  propagationPolicy?: string;
  /** Delete only if the object still has this uid / resourceVersion (else Conflict). */
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** Which write: a POST to the collection, or a PUT of the object or of its status subresource. */
export type ObjectWrite = "create" | "update" | "status";

/**
 * The one path for writing a whole object: create (POST to the collection), update (PUT, optimistic
 * concurrency by the object's resourceVersion) and the status subresource (PUT .../status). The object's
 * own metadata says where it goes; apiVersion/kind are filled from the type when absent.
 */
export async function writeObject<T>(requests: KubeRequests, type: ResourceType, obj: T, write: ObjectWrite): Promise<T> {
  const meta = (obj as KubeObject)?.metadata ?? {};
  const spec: RequestSpec = {
    verb: write === "create" ? "create" : "update",
    type,
    method: write === "create" ? "POST" : "PUT",
    namespace: meta.namespace,
    ...(write === "create" ? {} : { name: meta.name }),
    ...(write === "status" ? { subresource: "status" } : {}),
    body: withTypeMeta(type, obj),
  };
  requireNamespace(requests, spec);
  if (write !== "create" && !spec.name) {
    throw requests.errorFor(spec, "Invalid", { serverMessage: "metadata.name is required" });
  }
  return (await requests.send<T>(spec)).body as T;
}

/** A JSON merge patch (RFC 7386) of the object or of its status. */
export async function mergePatchObject<T>(
  requests: KubeRequests,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  patch: unknown,
  opts: { subresource?: "status" } = {},
): Promise<T> {
  const spec: RequestSpec = {
    verb: "patch",
    type,
    method: "PATCH",
    namespace,
    name,
    body: patch,
    contentType: "application/merge-patch+json",
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
  };
  requireNamespace(requests, spec);
  return (await requests.send<T>(spec)).body as T;
}

/** Deletes an object; false when it was already gone. */
export async function deleteObject(
  requests: KubeRequests,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  opts: DeleteOptions = {},
): Promise<boolean> {
  const body: Record<string, unknown> = { apiVersion: "v1", kind: "DeleteOptions" };
  if (opts.propagationPolicy) body["propagationPolicy"] = opts.propagationPolicy;
  if (opts.preconditions) body["preconditions"] = opts.preconditions;
  const spec: RequestSpec = { verb: "delete", type, method: "DELETE", namespace, name, body };
  requireNamespace(requests, spec);
  const { status } = await requests.send<unknown>(spec, true);
  return status !== 404;
}
