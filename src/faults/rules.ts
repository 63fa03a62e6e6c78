import { z } from "zod";

/**
 * The fault rule language shared by the ONTAP simulator (`/__sim/faults`) and the Kubernetes fault proxy.
 * One language for both worlds so a test can say "the nth create of X fails" the same way on either side.
 */
export const FaultAction = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("error"),
    status: z.number().int().min(400).max(599),
    code: z.string().optional(),
    message: z.string().optional(),
  }),
  z.object({ type: z.literal("delay"), ms: z.number().int().min(0).max(600_000) }),
  z.object({ type: z.literal("reset") }),
  z.object({ type: z.literal("hang") }),
  z.object({ type: z.literal("applyThenFail"), status: z.number().int().min(400).max(599).optional() }),
]);
export type FaultAction = z.infer<typeof FaultAction>;

export const FaultRuleSpec = z
  .object({
    method: z.string().toUpperCase().optional(),
    path: z.string().refine(isValidRegExp, { message: "path must be a valid regular expression" }),
    /** Only for multi-cluster owners (the simulator): restrict the rule to one cluster by name. */
    cluster: z.string().optional(),
    /** Fire starting at the nth matching call (1-based). With nth and no count, fires exactly once. */
    nth: z.number().int().min(1).optional(),
    /** Fire at most this many times. */
    count: z.number().int().min(1).optional(),
    /** Fire with this probability on each eligible call (seeded, so runs are reproducible). */
    probability: z.number().min(0).max(1).optional(),
    action: FaultAction,
  })
  .strict();
export type FaultRuleSpec = z.infer<typeof FaultRuleSpec>;

export interface FaultRule extends FaultRuleSpec {
  id: string;
  /** Calls that matched method and path. */
  matched: number;
  /** Calls on which the action fired. */
  hits: number;
}

export interface FaultCall {
  method: string;
  /** Path without the query string. */
  path: string;
  cluster?: string;
}

function isValidRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** mulberry32: tiny, fast, good enough for reproducible fault sampling. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Holds the active rules of one fault point and decides, call by call, which action (if any) fires. */
export class FaultRuleSet {
  private rules: FaultRule[] = [];
  private compiled = new Map<string, RegExp>();
  private nextId = 1;
  private random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  /** Validates and adds a rule; throws a ZodError naming the bad field. */
  add(input: unknown): FaultRule {
    const spec = FaultRuleSpec.parse(input);
    const rule: FaultRule = { ...spec, id: String(this.nextId++), matched: 0, hits: 0 };
    this.rules.push(rule);
    this.compiled.set(rule.id, new RegExp(spec.path));
    return rule;
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((r) => r.id !== id);
    this.compiled.delete(id);
    return this.rules.length !== before;
  }

  clear(): void {
    this.rules = [];
    this.compiled.clear();
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  reseed(seed: number): void {
    this.random = seededRandom(seed);
  }

  /** Returns the first rule that fires for this call, counting matches and hits on every rule it passes. */
  decide(call: FaultCall): FaultRule | undefined {
    for (const rule of this.rules) {
      if (rule.method && rule.method !== call.method.toUpperCase()) continue;
      if (rule.cluster && rule.cluster !== call.cluster) continue;
      if (!this.compiled.get(rule.id)?.test(call.path)) continue;
      rule.matched++;
      if (rule.nth !== undefined && rule.matched < rule.nth) continue;
      const limit = rule.count ?? (rule.nth !== undefined ? 1 : undefined);
      if (limit !== undefined && rule.hits >= limit) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      rule.hits++;
      return { ...rule };
    }
    return undefined;
  }
}
