/**
 * What the shoot webhook lets its callers hold. The webhook has no client authentication (the shoots' API
 * servers call it through a Service), so a caller is its remote address, and the limits are on what costs
 * memory, not on open connections:
 *
 * - bytes of request bodies held (received, not yet answered): at most `maxBufferedBytes` for all callers
 *   together, and at most `callerShareBytes` for one caller, so one caller (a shoot's API server, or anything
 *   that can reach the Service) can never take what the others need;
 * - reviews being processed (the body complete, parsed, mutated, answered): at most `maxProcessing`;
 * - requests one caller has open at once: at most `maxOpenPerCaller`, so idle connections of one caller
 *   cannot pile up without bound (they hold no bytes and no processing slot, so they block nobody else).
 *
 * An idle connection, or one that trickles its body, costs only what it has sent and only until the server's
 * body deadline: it no longer holds one of the few slots every review of every shoot needs.
 */
export interface ReviewBudgetLimits {
  maxBufferedBytes: number;
  callerShareBytes: number;
  maxProcessing: number;
  maxOpenPerCaller: number;
}

export type Refusal = "caller-open" | "caller-bytes" | "total-bytes" | "processing";

export interface ReviewTicket {
  /** Counts `bytes` more of this request's body; a refusal when the caller's share or the total would be exceeded. */
  add(bytes: number): Refusal | undefined;
  /** Takes a processing slot for the complete body; a refusal when every slot is taken. */
  startProcessing(): Refusal | undefined;
  /** Gives back everything the request held (idempotent). */
  close(): void;
}

export interface ReviewBudget {
  /** A request of `caller` starts: a ticket, or the refusal when the caller already has too many open. */
  open(caller: string): ReviewTicket | Refusal;
  /** Reviews being processed now. */
  processing(): number;
  /** Body bytes held now, in total. */
  bufferedBytes(): number;
}

export function createReviewBudget(limits: ReviewBudgetLimits): ReviewBudget {
  let totalBytes = 0;
  let processing = 0;
  const callers = new Map<string, { open: number; bytes: number }>();

  return {
    open(caller) {
      const state = callers.get(caller) ?? { open: 0, bytes: 0 };
      if (state.open >= limits.maxOpenPerCaller) return "caller-open";
      state.open++;
      callers.set(caller, state);
      let held = 0;
      let slot = false;
      let closed = false;
      return {
        add(bytes) {
          if (closed) return undefined;
          if (state.bytes + bytes > limits.callerShareBytes) return "caller-bytes";
          if (totalBytes + bytes > limits.maxBufferedBytes) return "total-bytes";
          held += bytes;
          state.bytes += bytes;
          totalBytes += bytes;
          return undefined;
        },
        startProcessing() {
          if (slot) return undefined;
          if (processing >= limits.maxProcessing) return "processing";
          slot = true;
          processing++;
          return undefined;
        },
        close() {
          if (closed) return;
          closed = true;
          totalBytes -= held;
          state.bytes -= held;
          state.open--;
          if (slot) processing--;
          if (state.open === 0) callers.delete(caller);
        },
      };
    },
    processing: () => processing,
    bufferedBytes: () => totalBytes,
  };
}

/** What a refusal tells the caller (the status is 429 for each: try again shortly). */
export function refusalMessage(refusal: Refusal, limits: ReviewBudgetLimits): string {
  switch (refusal) {
    case "caller-open":
      return `more than ${limits.maxOpenPerCaller} requests open from this caller`;
    case "caller-bytes":
      return `this caller's requests hold more than ${limits.callerShareBytes} bytes`;
    case "total-bytes":
      return `requests hold more than ${limits.maxBufferedBytes} bytes in total`;
    case "processing":
      return `more than ${limits.maxProcessing} reviews at once`;
  }
}
