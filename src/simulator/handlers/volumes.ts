import type { Route } from "../routes.js";
import { volumeView } from "../views.js";
import { readRoutes } from "./common.js";

/** Volumes are read-only over REST here; their number per SVM is set through the admin API. */
export const volumeRoutes: Route[] = readRoutes({
  kind: "volumes",
  collection: "/api/storage/volumes",
  all: (s) => s.volumes.values(),
  find: (s, params) => s.volumes.get(params.uuid!),
  view: (s) => (v) => volumeView(s, v),
  scope: { svmOf: (v) => v.svmUuid },
});
