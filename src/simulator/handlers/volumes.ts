import { type Route, svmScope } from "../routes.js";
import { volumeView } from "../views.js";
import { byName, getInstance, listCollection } from "./common.js";

const keys = ["uuid", "name"] as const;

/** Volumes are read-only over REST here; their number per SVM is set through the admin API. */
export const volumeRoutes: Route[] = [
  {
    method: "GET",
    template: "/api/storage/volumes",
    handler: (ctx) => {
      const s = ctx.sim.state;
      const scope = svmScope(ctx);
      const records = [...s.volumes.values()].filter((v) => scope === undefined || v.svmUuid === scope).map((v) => volumeView(s, v));
      return listCollection(ctx, "volumes", records, { keyFields: keys, sortKey: byName });
    },
  },
  {
    method: "GET",
    template: "/api/storage/volumes/{uuid}",
    handler: (ctx) => {
      const s = ctx.sim.state;
      const scope = svmScope(ctx);
      const volume = s.volumes.get(ctx.params.uuid!);
      const visible = volume && (scope === undefined || volume.svmUuid === scope) ? volume : undefined;
      return getInstance(ctx, "volumes", visible && volumeView(s, visible), keys);
    },
  },
];
