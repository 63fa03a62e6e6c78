/**
 * The one answer every unit of work gives: a step of the actuator, the actuator's operation, and the
 * controller's reconcile. Either it is done (with whatever it established) or it asks to be looked at again
 * after `afterMs` because something it waits for is not ready yet: nobody sleeps in a worker.
 *
 * The layers differ only in what `done` carries: a step its value (`StepResult<T>`), an actuator what
 * status shows (`ActuatorResult`), the controller nothing (`Result`). The Gardener reconciler is the one
 * conversion: it writes an actuator's `done` to status and hands the queue a bare `done`.
 */
export interface Requeue {
  kind: "requeue";
  afterMs: number;
  /** What is being waited for; shown in status and logs. */
  reason: string;
}

// biome-ignore lint/complexity/noBannedTypes: `{}` is the empty payload: a bare `{ kind: "done" }`.
export type Result<Done extends object = {}> = ({ kind: "done" } & Done) | Requeue;

/** A step's answer: done with the value it established, or requeue. */
export type StepResult<T> = Result<{ value: T }>;

export const done = <T>(value: T): StepResult<T> => ({ kind: "done", value });
export const requeue = (afterMs: number, reason: string): Requeue => ({ kind: "requeue", afterMs, reason });
export const DONE: Result = { kind: "done" };
