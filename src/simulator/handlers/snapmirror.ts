import { SimError } from "../errors.js";
import type { RequestContext, Route } from "../routes.js";
import { byName, getInstance, listCollection } from "./common.js";

/**
 * SnapMirror relationships as Trident's ontap-san driver reads them before it deletes a volume (was it ever a
 * SnapMirror destination or source?): `GET /api/snapmirror/relationships`, once with `list_destinations_only`.
 * The simulator models no SnapMirror, so the collection is empty for every caller, as on an SVM without
 * relationships; the query is still checked as ONTAP checks it (fields, filters, the operation's own flag).
 * Its SVM peers (`GET /api/svm/peers`, which Trident reads when it starts a backend) are empty for the same reason.
 */

const COLLECTION = "/api/snapmirror/relationships";
/** Boolean query flags of this GET (ONTAP's own, not fields): which side's relationships are listed. */
const FLAGS = ["list_destinations_only"] as const;

function listRelationships(ctx: RequestContext) {
  const rest = new URLSearchParams();
  for (const [name, value] of ctx.query) {
    if (!(FLAGS as readonly string[]).includes(name)) {
      rest.append(name, value);
      continue;
    }
    const lower = value.toLowerCase();
    if (lower !== "true" && lower !== "false") throw new SimError(400, "2", `Invalid value for field "${name}": expected true or false.`, name);
  }
  return listCollection({ ...ctx, query: rest }, "snapmirrorRelationships", [], { keyFields: ["uuid"], sortKey: byName });
}

export const snapmirrorRoutes: Route[] = [
  { method: "GET", template: COLLECTION, handler: listRelationships },
  { method: "GET", template: `${COLLECTION}/{uuid}`, handler: (ctx) => getInstance(ctx, "snapmirrorRelationships", undefined, ["uuid"]) },
  { method: "GET", template: "/api/svm/peers", handler: (ctx) => listCollection(ctx, "svmPeers", [], { keyFields: ["uuid"], sortKey: byName }) },
  { method: "GET", template: "/api/svm/peers/{uuid}", handler: (ctx) => getInstance(ctx, "svmPeers", undefined, ["uuid"]) },
];
