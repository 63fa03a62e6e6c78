import { z } from "zod";
import { parseBody } from "../http.js";
import type { RequestContext, Route } from "../routes.js";
import { writeQuery } from "./common.js";

/**
 * `POST /api/support/ems/application-logs`: an application's entry in ONTAP's event log (Trident sends its
 * heartbeat and start messages here, `EmsAutosupportLog`). NetApp's REST role for Trident grants it read_create.
 * The simulator keeps the entries (without the description) for tests; there is no GET.
 */
const EmsLog = z
  .object({
    app_version: z.string(),
    autosupport_required: z.boolean().optional(),
    category: z.string(),
    computer_name: z.string(),
    event_description: z.string(),
    event_id: z.number().int(),
    event_source: z.string(),
    severity: z.enum(["emergency", "alert", "error", "notice", "informational", "debug"]),
  })
  .strict();

function createLog(ctx: RequestContext) {
  writeQuery(ctx, true);
  const body = parseBody(EmsLog, ctx.body);
  const state = ctx.sim.state;
  state.emsLogs.push({
    at: new Date().toISOString(),
    svmUuid: ctx.identity.kind === "svm" ? ctx.identity.svmUuid : undefined,
    eventSource: body.event_source,
    eventId: body.event_id,
    category: body.category,
  });
  if (state.emsLogs.length > 1000) state.emsLogs.splice(0, state.emsLogs.length - 1000);
  // No record to return: the log is not a collection a client reads back, so `return_records` changes nothing.
  return { status: 201, body: {} };
}

export const emsRoutes: Route[] = [{ method: "POST", template: "/api/support/ems/application-logs", handler: createLog }];
