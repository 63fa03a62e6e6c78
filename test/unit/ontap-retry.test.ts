import { describe, expect, it } from "vitest";
import { OntapError } from "../../src/ontap/errors.js";
import { backoffDelayMs, createWithLookup, resolvePolicy, sleep, withRetry } from "../../src/ontap/retry.js";

function failure(transient: boolean, status = transient ? 503 : 400, code?: string): OntapError {
  return new OntapError({
    cluster: "c1",
    operation: "op",
    method: "GET",
    endpoint: "/api/x",
    kind: "http",
    transient,
    status,
    ...(code ? { code } : {}),
    detail: `${status}`,
  });
}

/** A clock that only moves when the code under test sleeps. */
function fakeTime() {
  let t = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
  };
}

describe("backoffDelayMs (full jitter)", () => {
  const policy = resolvePolicy({ baseMs: 100, capMs: 1_000, maxAttempts: 10, maxElapsedMs: 60_000 });

  it("grows the ceiling exponentially from base and caps it", () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelayMs(n, policy, top))).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it("draws uniformly from zero to the ceiling", () => {
    expect(backoffDelayMs(3, policy, () => 0)).toBe(0);
    expect(backoffDelayMs(3, policy, () => 0.5)).toBe(200);
  });

  it("stays finite for absurd attempt numbers", () => {
    expect(backoffDelayMs(10_000, policy, () => 0.5)).toBe(500);
  });
});

describe("withRetry", () => {
  it("retries a transient failure and returns the later success", async () => {
    const time = fakeTime();
    let calls = 0;
    const value = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw failure(true);
        return "ok";
      },
      { ...time, random: () => 0.5, policy: { baseMs: 100, capMs: 1000 } },
    );
    expect(value).toBe("ok");
    expect(calls).toBe(3);
    expect(time.sleeps).toEqual([50, 100]);
  });

  it("does not retry a permanent failure", async () => {
    let calls = 0;
    const err = failure(false, 403);
    await expect(
      withRetry(async () => {
        calls++;
        throw err;
      }, fakeTime()),
    ).rejects.toBe(err);
    expect(calls).toBe(1);
  });

  it("does not retry errors that are not OntapErrors (bugs stay loud)", async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new TypeError("boom");
      }, fakeTime()),
    ).rejects.toThrow("boom");
    expect(calls).toBe(1);
  });

  it("stops after maxAttempts and throws the last error", async () => {
    let calls = 0;
    const errors = [failure(true), failure(true), failure(true, 500)];
    await expect(
      withRetry(
        async () => {
          throw errors[calls++];
        },
        { ...fakeTime(), policy: { maxAttempts: 3 } },
      ),
    ).rejects.toBe(errors[2]);
    expect(calls).toBe(3);
  });

  it("stops before a sleep that would pass maxElapsedMs", async () => {
    const time = fakeTime();
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw failure(true);
        },
        { ...time, random: () => 0.999, policy: { baseMs: 1_000, capMs: 1_000, maxAttempts: 100, maxElapsedMs: 2_500 } },
      ),
    ).rejects.toBeInstanceOf(OntapError);
    expect(calls).toBe(3);
    expect(time.now()).toBeLessThanOrEqual(2_500);
  });

  it("rejects with the abort reason when the signal aborts during a backoff sleep, without another attempt", async () => {
    const controller = new AbortController();
    let calls = 0;
    const run = withRetry(
      async () => {
        calls++;
        setTimeout(() => controller.abort(new Error("shutting down")), 5);
        throw failure(true);
      },
      { signal: controller.signal, random: () => 0.999, policy: { baseMs: 10_000, capMs: 10_000 } },
    );
    await expect(run).rejects.toThrow("shutting down");
    expect(calls).toBe(1);
  });

  it("does not start when the signal is already aborted", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          return 1;
        },
        { signal: AbortSignal.abort(new Error("gone")) },
      ),
    ).rejects.toThrow("gone");
    expect(calls).toBe(0);
  });

  it("refuses a policy without any attempt", () => {
    expect(() => resolvePolicy({ maxAttempts: 0 })).toThrow(RangeError);
  });
});

describe("sleep", () => {
  it("resolves after the delay", async () => {
    const started = Date.now();
    await sleep(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });
});

describe("createWithLookup", () => {
  const opts = () => ({ ...fakeTime(), random: () => 0 });

  it("after a transient failure looks the object up and returns it instead of creating again", async () => {
    const log: string[] = [];
    const result = await createWithLookup({
      ...opts(),
      create: async () => {
        log.push("create");
        throw failure(true, 500);
      },
      lookup: async () => {
        log.push("lookup");
        return "existing";
      },
    });
    expect(result).toBe("existing");
    expect(log).toEqual(["create", "lookup"]);
  });

  it("creates again when the lookup after a transient failure finds nothing", async () => {
    const log: string[] = [];
    let creates = 0;
    const result = await createWithLookup({
      ...opts(),
      create: async () => {
        log.push("create");
        if (++creates === 1) throw failure(true, 500, "13434889");
        return "created";
      },
      lookup: async () => {
        log.push("lookup");
        return undefined;
      },
    });
    expect(result).toBe("created");
    expect(log).toEqual(["create", "lookup", "create"]);
  });

  it("resolves a duplicate answer after an ambiguous attempt by the lookup", async () => {
    let creates = 0;
    let lookups = 0;
    const result = await createWithLookup({
      ...opts(),
      create: async () => {
        creates++;
        if (creates === 1) throw failure(true, 503);
        throw failure(false, 409, "13434908");
      },
      // First lookup misses (the create is still being applied), the one after the duplicate finds it.
      lookup: async () => (++lookups === 1 ? undefined : "mine"),
    });
    expect(result).toBe("mine");
    expect(creates).toBe(2);
  });

  it("reports a duplicate on the first attempt as an error: the object is someone else's", async () => {
    let lookups = 0;
    const dup = failure(false, 400, "13434908");
    await expect(
      createWithLookup({
        ...opts(),
        create: async () => {
          throw dup;
        },
        lookup: async () => {
          lookups++;
          return "theirs";
        },
      }),
    ).rejects.toBe(dup);
    expect(lookups).toBe(0);
  });

  it("never looks up or retries after a permanent first failure", async () => {
    let creates = 0;
    await expect(
      createWithLookup({
        ...opts(),
        create: async () => {
          creates++;
          throw failure(false, 400, "13434914");
        },
        lookup: async () => "x",
      }),
    ).rejects.toMatchObject({ code: "13434914" });
    expect(creates).toBe(1);
  });
});
