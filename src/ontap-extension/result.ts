/** What a step answers: go on with what it established, or come back later (never sleep in a worker). */
export type StepResult<T> = { kind: "ok"; value: T } | { kind: "requeue"; afterMs: number; reason: string };

export const ok = <T>(value: T): StepResult<T> => ({ kind: "ok", value });
export const requeue = (afterMs: number, reason: string): StepResult<never> => ({ kind: "requeue", afterMs, reason });
