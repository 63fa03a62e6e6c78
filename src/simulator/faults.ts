import { ZodError } from "zod";
import { type FaultAction, type FaultRule, FaultRuleSet, FaultRuleSpec } from "../faults/rules.js";
import { Codes, SimError } from "./errors.js";

/** Method of rules that act on asynchronous jobs instead of REST calls. */
export const JOB_METHOD = "JOB";
const JOB_ID_PREFIX = "job-";

/** What a JOB rule does to the job it fires on. */
export type JobFault =
  | { kind: "fail"; code: string; message: string; status: number; applyEffect: boolean }
  | { kind: "delay"; ms: number }
  | { kind: "hang" };

/**
 * The fault rules of one simulated cluster. REST rules and JOB rules live in separate rule sets so a
 * rule without a method (which matches every REST call) can never fire on a job by accident.
 */
export class SimFaults {
  private rest: FaultRuleSet;
  private jobs: FaultRuleSet;

  constructor(
    private readonly cluster: string,
    private readonly seed: number,
  ) {
    this.rest = new FaultRuleSet(seed);
    this.jobs = new FaultRuleSet(seed);
  }

  /** Validates and adds a rule; answers a SimError (400) naming the bad field. */
  add(input: unknown): FaultRule {
    let spec: FaultRuleSpec;
    try {
      spec = FaultRuleSpec.parse(input);
    } catch (error) {
      throw zodToSimError(error);
    }
    if (spec.cluster !== undefined && spec.cluster !== this.cluster) {
      throw new SimError(
        400,
        Codes.invalidValue,
        `cluster: this admin API serves cluster "${this.cluster}"; post the rule to the port of "${spec.cluster}"`,
        "cluster",
      );
    }
    if (spec.method === JOB_METHOD) {
      const rule = this.jobs.add(spec);
      return { ...rule, id: JOB_ID_PREFIX + rule.id };
    }
    return this.rest.add(spec);
  }

  remove(id: string): boolean {
    return id.startsWith(JOB_ID_PREFIX) ? this.jobs.remove(id.slice(JOB_ID_PREFIX.length)) : this.rest.remove(id);
  }

  list(): FaultRule[] {
    return [...this.rest.list(), ...this.jobs.list().map((r) => ({ ...r, id: JOB_ID_PREFIX + r.id }))];
  }

  clear(): void {
    this.rest.clear();
    this.jobs.clear();
    this.rest.reseed(this.seed);
    this.jobs.reseed(this.seed);
  }

  decideRest(method: string, path: string): FaultAction | undefined {
    return this.rest.decide({ method, path, cluster: this.cluster })?.action;
  }

  /** `operation` is `METHOD /path` of the call that started the job, e.g. `POST /api/svm/svms`. */
  decideJob(operation: string): JobFault | undefined {
    const action = this.jobs.decide({ method: JOB_METHOD, path: operation, cluster: this.cluster })?.action;
    if (!action) return undefined;
    switch (action.type) {
      case "error":
        return {
          kind: "fail",
          code: action.code ?? Codes.svmInternalError,
          message: action.message ?? "Simulated job failure.",
          status: action.status,
          applyEffect: false,
        };
      case "delay":
        return { kind: "delay", ms: action.ms };
      case "hang":
        return { kind: "hang" };
      case "reset":
        return { kind: "fail", code: Codes.svmInternalError, message: "Simulated job abort.", status: 500, applyEffect: false };
      case "applyThenFail":
        return {
          kind: "fail",
          code: Codes.svmInternalError,
          message: "Simulated job failure after the change was applied.",
          status: action.status ?? 500,
          applyEffect: true,
        };
    }
  }
}

function zodToSimError(error: unknown): SimError {
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    const keys = issue && "keys" in issue && Array.isArray(issue.keys) ? issue.keys : [];
    const field = [...(issue?.path ?? []), ...keys].map(String).join(".") || "(body)";
    return new SimError(400, Codes.invalidValue, `${field}: ${issue?.message ?? "invalid fault rule"}`, field);
  }
  return new SimError(400, Codes.invalidValue, "invalid fault rule");
}
