import { specOrDeletionChangePredicate } from "../runtime/controller.js";
import { OPERATION_ANNOTATION } from "./types.js";

/**
 * Gardener's trigger rules for Extensions: act on a spec change (generation), on a new value of the
 * operation annotation, and when a deletion timestamp appears. Status-only and resourceVersion-only updates
 * (including the controller's own status writes and its removal of the annotation) are ignored.
 */
export function extensionChangePredicate(oldObj: unknown, newObj: unknown): boolean {
  if (specOrDeletionChangePredicate(oldObj, newObj)) return true;
  const annotations = (obj: unknown) => (obj as { metadata?: { annotations?: Record<string, string> } })?.metadata?.annotations;
  const newOperation = annotations(newObj)?.[OPERATION_ANNOTATION];
  return Boolean(newOperation && newOperation !== annotations(oldObj)?.[OPERATION_ANNOTATION]);
}
