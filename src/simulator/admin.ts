import { z } from "zod";
import { Codes, notFound, SimError } from "./errors.js";
import { resolveAggregates, checkNewSvmName } from "./handlers/svms.js";
import { parseBody } from "./http.js";
import type { RequestContext, Route } from "./routes.js";
import { accountKey, addAggregate, findSvmByName, insertSvm, SVM_STATES, type SimSvm, setDataVolumeCount } from "./state.js";
import { aggregateView, svmView } from "./views.js";

/**
 * The test harness's side door under `/__sim/`: fault rules, state dumps, call counts, reset, and
 * direct state changes that a real cluster would only show after out-of-band administration.
 */

const VolumeCount = z.object({ count: z.number().int().min(0).max(10_000) }).strict();
const Bgp = z.object({ enabled: z.boolean() }).strict();
const SvmStatePatch = z.object({ state: z.enum(SVM_STATES as [string, ...string[]]) }).strict();
const SvmDirect = z
  .object({
    name: z.string(),
    aggregates: z.array(z.object({ uuid: z.string().optional(), name: z.string().optional() }).strict()).optional(),
    nvme: z.object({ enabled: z.boolean().optional(), allowed: z.boolean().optional() }).strict().optional(),
    state: z.enum(SVM_STATES as [string, ...string[]]).optional(),
  })
  .strict();
/** An aggregate added to the cluster (capacity an operator adds later), on the named node or the first. */
const AggregateAdd = z.object({ name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/), node: z.string().optional() }).strict();
const PasswordSet = z.object({ password: z.string().min(1) }).strict();
const Reachability = z.object({ reachable: z.boolean() }).strict();

function svmNamed(ctx: RequestContext): SimSvm {
  const svm = findSvmByName(ctx.sim.state, ctx.params.name!);
  if (!svm) throw notFound("name");
  return svm;
}

const ok = (body: unknown = {}) => ({ status: 200, body });

/** Requests in flight now and the most at once since the last reset (the client's concurrency cap, observed). */
function concurrency(ctx: RequestContext) {
  const { inFlight, peak } = ctx.sim.concurrency();
  return ok({ in_flight: inFlight, peak });
}

export const adminRoutes: Route[] = [
  {
    method: "POST",
    template: "/__sim/faults",
    handler: (ctx) => {
      if (ctx.body === undefined) throw new SimError(400, Codes.invalidJson, "A JSON fault rule is required.");
      const rule = ctx.sim.faults.add(ctx.body);
      return { status: 201, body: { id: rule.id } };
    },
  },
  { method: "GET", template: "/__sim/faults", handler: (ctx) => ok({ rules: ctx.sim.faults.list(), hanging: ctx.sim.hanging.size }) },
  {
    method: "DELETE",
    template: "/__sim/faults",
    handler: (ctx) => {
      const removed = ctx.sim.faults.list().length;
      ctx.sim.faults.clear();
      return ok({ removed });
    },
  },
  {
    method: "DELETE",
    template: "/__sim/faults/{id}",
    handler: (ctx) => {
      if (!ctx.sim.faults.remove(ctx.params.id!)) throw notFound("id");
      return ok();
    },
  },
  { method: "GET", template: "/__sim/state", handler: (ctx) => ok(ctx.sim.snapshot()) },
  {
    method: "GET",
    template: "/__sim/lif-endpoints",
    handler: async (ctx) => {
      await ctx.sim.lifEndpoints?.sync();
      return ok({ file: ctx.sim.lifEndpoints?.file, endpoints: ctx.sim.lifEndpoints?.list() ?? {} });
    },
  },
  {
    method: "PUT",
    template: "/__sim/lif-endpoints/{address}",
    handler: (ctx) => {
      const { reachable } = parseBody(Reachability, ctx.body);
      // Marking an address that has no LIF yet is allowed: it takes effect when the LIF appears.
      const listening = ctx.sim.lifEndpoints?.setReachable(ctx.params.address!, reachable) ?? false;
      return ok({ address: ctx.params.address, reachable, listening });
    },
  },
  {
    method: "GET",
    template: "/__sim/calls",
    handler: (ctx) => {
      if (ctx.query.get("log") !== "true") return ok({ calls: ctx.sim.callCounts() });
      const since = Number(ctx.query.get("since") ?? "0");
      if (!Number.isInteger(since) || since < 0) {
        throw new SimError(400, Codes.invalidValue, "since: must be a non-negative integer", "since");
      }
      return ok({ calls: ctx.sim.callCounts(), log: ctx.sim.callLogSince(since) });
    },
  },
  { method: "GET", template: "/__sim/concurrency", handler: concurrency },
  {
    method: "PUT",
    template: "/__sim/conversation",
    handler: (ctx) => {
      ctx.sim.startConversation();
      return ok();
    },
  },
  {
    method: "GET",
    template: "/__sim/conversation",
    // `?stop=true` ends the recording as it hands the exchanges over.
    handler: (ctx) => ok({ exchanges: ctx.sim.conversationSoFar(ctx.query.get("stop") === "true") }),
  },
  {
    method: "DELETE",
    template: "/__sim/concurrency",
    handler: (ctx) => {
      ctx.sim.resetConcurrencyPeak();
      return concurrency(ctx);
    },
  },
  {
    method: "POST",
    template: "/__sim/reset",
    handler: (ctx) => {
      ctx.sim.reset();
      ctx.sim.lifEndpoints?.clearUnreachable();
      return ok();
    },
  },
  {
    method: "PUT",
    template: "/__sim/svms/{name}/volumes",
    handler: (ctx) => {
      const { count } = parseBody(VolumeCount, ctx.body);
      const svm = svmNamed(ctx);
      setDataVolumeCount(ctx.sim.state, svm, count);
      return ok({ svm: svm.name, count });
    },
  },
  {
    method: "PUT",
    template: "/__sim/bgp",
    handler: (ctx) => {
      const { enabled } = parseBody(Bgp, ctx.body);
      ctx.sim.state.bgp = enabled;
      return ok({ enabled });
    },
  },
  {
    method: "PATCH",
    template: "/__sim/svms/{name}",
    handler: (ctx) => {
      const { state } = parseBody(SvmStatePatch, ctx.body);
      const svm = svmNamed(ctx);
      svm.state = state as SimSvm["state"];
      return ok(svmView(ctx.sim.state, svm));
    },
  },
  {
    method: "POST",
    template: "/__sim/svms",
    handler: (ctx) => {
      const body = parseBody(SvmDirect, ctx.body);
      const state = ctx.sim.state;
      checkNewSvmName(state, body.name);
      const aggregates = resolveAggregates(state, body.aggregates ?? []);
      const svm = insertSvm(state, {
        name: body.name,
        state: (body.state ?? "running") as SimSvm["state"],
        aggregateUuids: aggregates.map((a) => a.uuid),
        nvme: { enabled: body.nvme?.enabled ?? true, allowed: body.nvme?.allowed ?? true },
      });
      return { status: 201, body: svmView(state, svm) };
    },
  },
  {
    method: "POST",
    template: "/__sim/aggregates",
    handler: (ctx) => {
      const body = parseBody(AggregateAdd, ctx.body);
      const state = ctx.sim.state;
      if (state.aggregates.some((a) => a.name === body.name)) throw new SimError(409, Codes.svmIncorrectFields, `Aggregate "${body.name}" already exists.`, "name");
      const node = body.node === undefined ? state.nodes[0] : state.nodes.find((n) => n.name === body.node);
      if (!node) throw notFound("node");
      const aggregate = addAggregate(state, body.name, node.uuid);
      return { status: 201, body: aggregateView(state, aggregate) };
    },
  },
  {
    method: "POST",
    template: "/__sim/accounts/{svm}/{name}/password",
    handler: (ctx) => {
      const { password } = parseBody(PasswordSet, ctx.body);
      const state = ctx.sim.state;
      const svm = findSvmByName(state, ctx.params.svm!);
      if (!svm) throw notFound("svm");
      const account = state.accounts.get(accountKey(svm.uuid, ctx.params.name!));
      if (!account) throw notFound("name");
      account.password = password;
      return ok();
    },
  },
];
