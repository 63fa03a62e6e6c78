import { readFileSync } from "node:fs";
import { Agent, request } from "undici";
import type { SimExchange } from "../../src/simulator/cluster.js";

/**
 * Replays a recorded client conversation (what the real Trident sent to its SVM management LIF and what it got,
 * test/fixtures/trident-v<version>/conversation.json, recorded by `npm run trident:e2e -- --record`) against a
 * simulator set up as the recording's world was, and lists every difference:
 *  - the status of each answer,
 *  - the shape of each answer's body (every dotted field path; values such as uuids, serial numbers and times
 *    differ by nature and are not compared),
 * uuids the recording learned from answers are mapped to the ones the replay gets (a volume created in the
 * replay has its own uuid), in paths, queries and bodies. A job poll of the recording that saw the job still
 * running is skipped; a poll that saw it end is replayed until the replay's job ends too.
 */

export interface Conversation {
  trident: string;
  exchanges: SimExchange[];
}

export function readConversation(file: string): Conversation {
  return JSON.parse(readFileSync(file, "utf8")) as Conversation;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const JOB_TEMPLATE = "/api/cluster/jobs/{uuid}";

function substitute(text: string, uuids: Map<string, string>): string {
  return text.replace(UUID, (found) => uuids.get(found) ?? found);
}

function substituteDeep(value: unknown, uuids: Map<string, string>): unknown {
  if (typeof value === "string") return substitute(value, uuids);
  if (Array.isArray(value)) return value.map((item) => substituteDeep(item, uuids));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteDeep(v, uuids)]));
  }
  return value;
}

/** Learns recorded uuid -> replayed uuid wherever both answers hold a uuid at the same place. */
function learn(recorded: unknown, actual: unknown, uuids: Map<string, string>): void {
  if (typeof recorded === "string" && typeof actual === "string") {
    const a = recorded.match(UUID) ?? [];
    const b = actual.match(UUID) ?? [];
    if (a.length !== b.length) return;
    for (const [i, uuid] of a.entries()) if (!uuids.has(uuid)) uuids.set(uuid, b[i]!);
    return;
  }
  if (Array.isArray(recorded) && Array.isArray(actual)) {
    for (const [i, item] of recorded.entries()) learn(item, actual[i], uuids);
    return;
  }
  if (recorded && actual && typeof recorded === "object" && typeof actual === "object") {
    for (const [key, value] of Object.entries(recorded)) learn(value, (actual as Record<string, unknown>)[key], uuids);
  }
}

/** Every dotted field path of a JSON value, arrays descended without an index. */
export function shapeOf(value: unknown, prefix = "", into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) shapeOf(item, prefix, into);
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const path = prefix ? `${prefix}.${key}` : key;
      into.add(path);
      shapeOf(item, path, into);
    }
  }
  return into;
}

function isTerminalJob(body: unknown): boolean {
  const state = (body as { state?: string } | undefined)?.state;
  return state === "success" || state === "failure";
}

export interface ReplayTarget {
  /** https://127.0.0.1:PORT of the SVM management LIF listener. */
  url: string;
  ca: string;
  username: string;
  password: string;
}

export interface ReplayResult {
  replayed: number;
  differences: string[];
}

export async function replayConversation(conversation: Conversation, target: ReplayTarget): Promise<ReplayResult> {
  const dispatcher = new Agent({ connect: { ca: target.ca }, connections: 4 });
  const auth = `Basic ${Buffer.from(`${target.username}:${target.password}`).toString("base64")}`;
  const uuids = new Map<string, string>();
  const differences: string[] = [];
  let replayed = 0;
  const send = async (exchange: SimExchange) => {
    const path = substitute(exchange.path, uuids);
    const query = substitute(exchange.query, uuids);
    const body = exchange.body === undefined ? undefined : JSON.stringify(substituteDeep(exchange.body, uuids));
    const res = await request(`${target.url}${path}${query ? `?${query}` : ""}`, {
      method: exchange.method as "GET",
      dispatcher,
      headers: { authorization: auth, accept: "application/hal+json", ...(body ? { "content-type": "application/json" } : {}) },
      body,
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  try {
    for (const [i, exchange] of conversation.exchanges.entries()) {
      const isJobPoll = exchange.method === "GET" && exchange.template === JOB_TEMPLATE && exchange.status === 200;
      if (isJobPoll && !isTerminalJob(exchange.response)) continue;
      let actual = await send(exchange);
      for (let polls = 0; isJobPoll && actual.status === 200 && !isTerminalJob(actual.body) && polls < 500; polls++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        actual = await send(exchange);
      }
      replayed++;
      const label = `#${i} ${exchange.method} ${exchange.template}${exchange.query ? `?${exchange.query}` : ""}`;
      if (actual.status !== exchange.status) {
        const detail = JSON.stringify((actual.body as { error?: unknown } | undefined)?.error ?? "");
        differences.push(`${label}: status ${actual.status}, recorded ${exchange.status} ${detail}`);
        continue;
      }
      learn(exchange.response, actual.body, uuids);
      const want = shapeOf(exchange.response);
      const got = shapeOf(actual.body);
      const missing = [...want].filter((p) => !got.has(p));
      const extra = [...got].filter((p) => !want.has(p));
      if (missing.length > 0 || extra.length > 0) {
        differences.push(`${label}: answer lacks [${missing.join(", ")}], has more [${extra.join(", ")}]`);
      }
    }
  } finally {
    await dispatcher.close();
  }
  return { replayed, differences };
}
