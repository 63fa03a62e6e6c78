import { afterEach, describe, expect, it, vi } from "vitest";
import { WorkQueue } from "../../src/runtime/workqueue.js";

/** Resolves with the key, or "pending" if get() does not resolve within a macrotask. */
async function tryGet<K extends string>(q: WorkQueue<K>): Promise<K | undefined | "pending"> {
  const got = q.get();
  const marker = new Promise<"pending">((r) => setTimeout(() => r("pending"), 5));
  return Promise.race([got, marker]);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("work queue", () => {
  it("queues a key at most once while it waits", async () => {
    const q = new WorkQueue<string>();
    q.add("a");
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(q.len()).toBe(0);
  });

  it("never hands one key to two workers; an add during processing requeues it after done", async () => {
    const q = new WorkQueue<string>();
    q.add("a");
    const first = await q.get();
    expect(first).toBe("a");
    q.add("a");
    q.add("a");
    expect(q.len()).toBe(0);
    // A second worker waiting now must not receive "a".
    const second = q.get();
    expect(await Promise.race([second, new Promise((r) => setTimeout(() => r("pending"), 5))])).toBe("pending");
    q.done("a");
    expect(await second).toBe("a");
    q.done("a");
    expect(q.len()).toBe(0);
  });

  it("does not requeue a key that was not added again during processing", async () => {
    const q = new WorkQueue<string>();
    q.add("a");
    await q.get();
    q.done("a");
    expect(await tryGet(q)).toBe("pending");
  });

  it("hands keys of one group out one at a time and lets other keys pass", async () => {
    const q = new WorkQueue<string>({ groupOf: (k) => k.split(":")[0] });
    q.add("p1:a");
    q.add("p1:b");
    q.add("p2:c");
    expect(await q.get()).toBe("p1:a");
    // p1:b waits for p1:a; p2:c is free and overtakes it.
    expect(await q.get()).toBe("p2:c");
    const third = q.get();
    expect(await Promise.race([third, new Promise((r) => setTimeout(() => r("pending"), 5))])).toBe("pending");
    q.done("p1:a");
    expect(await third).toBe("p1:b");
  });

  it("wakes a waiting worker when a group is freed", async () => {
    const q = new WorkQueue<string>({ groupOf: (k) => k.split(":")[0] });
    q.add("p:a");
    q.add("p:b");
    await q.get();
    const waiting = q.get();
    setTimeout(() => q.done("p:a"), 5);
    expect(await waiting).toBe("p:b");
  });

  it("frees the group a key took even when its group changed while it was processed (a Cluster arrived in the cache)", async () => {
    const groups = new Map([["a", "ns-a"]]);
    const q = new WorkQueue<string>({ groupOf: (k) => groups.get(k) ?? "project-p" });
    q.add("a");
    expect(await q.get()).toBe("a");
    groups.set("a", "project-p");
    q.done("a");
    q.add("b");
    q.add("a");
    expect(await q.get()).toBe("b");
    const waiting = q.get();
    expect(await Promise.race([waiting, new Promise((r) => setTimeout(() => r("pending"), 5))])).toBe("pending");
    q.done("b");
    expect(await waiting).toBe("a");
  });

  it("adds after a delay, keeping the earliest deadline per key", async () => {
    vi.useFakeTimers();
    const q = new WorkQueue<string>();
    q.addAfter("a", 1000);
    q.addAfter("a", 5000);
    q.addAfter("b", 3000);
    q.addAfter("b", 500);
    expect(q.len()).toBe(0);
    vi.advanceTimersByTime(600);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe("b");
    vi.advanceTimersByTime(500);
    expect(await q.get()).toBe("a");
    vi.advanceTimersByTime(10_000);
    expect(q.len()).toBe(0);
  });

  it("an add now cancels a pending delayed add of the same key (one run, not two)", async () => {
    vi.useFakeTimers();
    const q = new WorkQueue<string>();
    q.addAfter("a", 1000);
    q.add("a");
    expect(await q.get()).toBe("a");
    q.done("a");
    vi.advanceTimersByTime(2000);
    expect(q.len()).toBe(0);
  });

  it("a delayed add of a key already due to run again is dropped: that run decides about later", async () => {
    vi.useFakeTimers();
    const q = new WorkQueue<string>();
    q.add("a");
    expect(await q.get()).toBe("a");
    q.add("a"); // an event while it runs
    q.addAfter("a", 1000); // the running reconcile asks to come back later
    q.done("a");
    expect(await q.get()).toBe("a");
    q.done("a");
    vi.advanceTimersByTime(2000);
    expect(q.len()).toBe(0);
  });

  it("addAfter with zero or negative delay adds at once", () => {
    const q = new WorkQueue<string>();
    q.addAfter("a", 0);
    q.addAfter("b", -5);
    expect(q.len()).toBe(2);
  });

  it("backs off rate-limited adds per key, and forget resets the backoff", () => {
    vi.useFakeTimers();
    const retries: number[] = [];
    const q = new WorkQueue<string>({
      rateLimiter: { baseMs: 1000, capMs: 60_000, random: () => 0.999 },
      hooks: { retry: () => retries.push(1) },
    });
    q.addRateLimited("a");
    expect(q.failures("a")).toBe(1);
    vi.advanceTimersByTime(998);
    expect(q.len()).toBe(0);
    vi.advanceTimersByTime(2);
    expect(q.len()).toBe(1);
    q.addRateLimited("a");
    expect(q.failures("a")).toBe(2);
    q.forget("a");
    expect(q.failures("a")).toBe(0);
    expect(retries).toHaveLength(2);
  });

  it("reports depth and adds through its hooks", async () => {
    const depths: number[] = [];
    let adds = 0;
    const q = new WorkQueue<string>({ hooks: { depth: (d) => depths.push(d), add: () => adds++ } });
    q.add("a");
    q.add("a");
    q.add("b");
    await q.get();
    expect(adds).toBe(3);
    expect(depths.at(-1)).toBe(1);
    expect(Math.max(...depths)).toBe(2);
  });

  it("after shutdown, get returns undefined, waiting workers wake, and adds are ignored", async () => {
    const q = new WorkQueue<string>();
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).toBeUndefined();
    q.add("a");
    q.addAfter("b", 1);
    expect(q.len()).toBe(0);
    expect(await q.get()).toBeUndefined();
  });

  it("shutdown drops queued keys and pending delays", async () => {
    vi.useFakeTimers();
    const q = new WorkQueue<string>();
    q.add("a");
    q.addAfter("b", 100);
    q.shutdown();
    vi.advanceTimersByTime(200);
    expect(q.len()).toBe(0);
    expect(q.has("b")).toBe(false);
  });

  it("shutdownWithDrain waits for in-flight keys and does not requeue them", async () => {
    const q = new WorkQueue<string>();
    q.add("a");
    const key = (await q.get())!;
    q.add("a");
    let drained: boolean | undefined;
    const drain = q.shutdownWithDrain(1000).then((d) => {
      drained = d;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(drained).toBeUndefined();
    q.done(key);
    await drain;
    expect(drained).toBe(true);
    expect(q.len()).toBe(0);
  });

  it("shutdownWithDrain gives up after its timeout", async () => {
    const q = new WorkQueue<string>();
    q.add("a");
    await q.get();
    expect(await q.shutdownWithDrain(10)).toBe(false);
    expect(q.inFlight()).toBe(1);
  });

  it("N workers never process the same key concurrently under random load", async () => {
    const q = new WorkQueue<string>({ groupOf: (k) => (k.startsWith("g") ? "g" : undefined) });
    const active = new Set<string>();
    let groupActive = 0;
    let violations = 0;
    let processed = 0;
    const worker = async () => {
      for (;;) {
        const key = await q.get();
        if (key === undefined) return;
        if (active.has(key)) violations++;
        if (key.startsWith("g") && groupActive > 0) violations++;
        active.add(key);
        if (key.startsWith("g")) groupActive++;
        if (Math.random() < 0.5) q.add(key);
        await new Promise((r) => setTimeout(r, Math.random() * 2));
        active.delete(key);
        if (key.startsWith("g")) groupActive--;
        processed++;
        q.done(key);
      }
    };
    const workers = Array.from({ length: 5 }, worker);
    for (let i = 0; i < 300; i++) {
      q.add(`${Math.random() < 0.3 ? "g" : "k"}${i % 7}`);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 50));
    await q.shutdownWithDrain(2000);
    await Promise.all(workers);
    expect(violations).toBe(0);
    expect(processed).toBeGreaterThan(7);
  });
});
