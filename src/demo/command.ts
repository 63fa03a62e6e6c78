import { SHOW_CURSOR } from "./display.js";
import { runDemo } from "./story.js";

export interface DemoCommandOptions {
  keep?: boolean;
  /** commander's `--no-tty` sets this to false. */
  tty?: boolean;
}

/**
 * `gardener-extension-ontap demo`. The first Ctrl-C (or SIGTERM) stops everything cleanly; a second one
 * exits at once (the next run reaps a kube-apiserver left behind).
 */
export async function runDemoCommand(opts: DemoCommandOptions): Promise<number> {
  const interrupt = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals > 1) {
      process.stdout.write(`${SHOW_CURSOR}\nsecond interrupt: exiting without cleanup\n`);
      process.exit(130);
    }
    interrupt.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const tty = opts.tty !== false && Boolean(process.stdout.isTTY);
  try {
    return await runDemo({ keep: Boolean(opts.keep), tty, out: process.stdout, signal: interrupt.signal });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    // Every server and child process is stopped by now; a stray keep-alive socket must not hold the exit.
    setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
  }
}
