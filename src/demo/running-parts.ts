import { readFileSync } from "node:fs";
import path from "node:path";
import { isAlive } from "../testenv/index.js";

/**
 * Everything the demo started, so that the end (or Ctrl-C) stops it in reverse order and can say, by pid and
 * port, that nothing is left running.
 */
export class RunningParts {
  private readonly stops: { what: string; stop: () => Promise<unknown>; ports?: () => string[] }[] = [];
  readonly pids: { name: string; pid: number }[] = [];

  /** `ports`: what the part listens on (`name port`), read when the demo says what it closed. */
  add(what: string, stop: () => Promise<unknown>, ports?: () => string[]): void {
    this.stops.push({ what, stop, ports });
  }

  /** The pids a test environment wrote as `<name>.pid` into its directory, shown as `<prefix><name>`. */
  trackPids(dir: string, names: readonly string[], prefix = ""): void {
    for (const name of names) {
      const pid = Number.parseInt(readFileSync(path.join(dir, `${name}.pid`), "utf8"), 10);
      if (Number.isInteger(pid)) this.pids.push({ name: `${prefix}${name}`, pid });
    }
  }

  get started(): boolean {
    return this.stops.length > 0;
  }

  /** Stops everything, last started first; a part that fails to stop is reported and the rest still stopped. */
  async stopAll(print: (text: string) => void): Promise<void> {
    for (const { what, stop } of [...this.stops].reverse()) {
      await stop().catch((err: unknown) => print(`stopping the ${what} failed: ${(err as Error).message}`));
    }
  }

  /** The ports of every part, in the order they were started. */
  ports(): string[] {
    return this.stops.flatMap((s) => s.ports?.() ?? []);
  }

  stillRunning(): { name: string; pid: number }[] {
    return this.pids.filter((p) => isAlive(p.pid));
  }
}
