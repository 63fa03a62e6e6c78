/**
 * Runs `round` every `intervalMs` until stopped, for the stand-ins that play a missing controller (the fake
 * resource manager, the shoot's workload controllers). A failed round is dropped: the API server may be going
 * away with the test, and the next round tries again. `stop` wakes the wait and resolves after the last round.
 */
export function startPollingLoop(round: (stop: AbortSignal) => Promise<void>, intervalMs: number): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | undefined;
  // A round that waits on the server (a watch) ends early on stop.
  const stopSignal = new AbortController();
  const loop = (async () => {
    while (!stopped) {
      try {
        await round(stopSignal.signal);
      } catch {
        // dropped on purpose, see above
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, intervalMs).unref();
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      stopSignal.abort();
      wake?.();
      await loop;
    },
  };
}
