import { describe, expect, it } from "vitest";
import { createRateLimiter } from "../../src/runtime/ratelimiter.js";

describe("rate limiter", () => {
  it("doubles the delay ceiling per consecutive failure up to the cap", () => {
    const rl = createRateLimiter({ baseMs: 1000, capMs: 10_000, random: () => 0.999999 });
    const delays = Array.from({ length: 6 }, () => rl.when("a"));
    expect(delays).toEqual([999, 1999, 3999, 7999, 9999, 9999]);
  });

  it("uses full jitter: every delay lies in [0, ceiling)", () => {
    const rl = createRateLimiter({ baseMs: 2000, capMs: 300_000 });
    for (let i = 0; i < 20; i++) {
      const ceiling = Math.min(300_000, 2000 * 2 ** i);
      const d = rl.when("k");
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(ceiling);
    }
    const zero = createRateLimiter({ random: () => 0 });
    expect(zero.when("k")).toBe(0);
  });

  it("defaults to a 2 s base and a 5 min cap", () => {
    const rl = createRateLimiter({ random: () => 0.999999 });
    expect(rl.when("a")).toBe(1999);
    for (let i = 0; i < 30; i++) rl.when("a");
    expect(rl.when("a")).toBe(299_999);
  });

  it("tracks failures per key and forget resets only that key", () => {
    const rl = createRateLimiter({ baseMs: 100, capMs: 1000, random: () => 0.5 });
    rl.when("a");
    rl.when("a");
    rl.when("b");
    expect(rl.failures("a")).toBe(2);
    expect(rl.failures("b")).toBe(1);
    rl.forget("a");
    expect(rl.failures("a")).toBe(0);
    expect(rl.failures("b")).toBe(1);
    expect(rl.when("a")).toBe(50);
  });

  it("never overflows after very many failures", () => {
    const rl = createRateLimiter({ baseMs: 1, capMs: 5, random: () => 0.5 });
    for (let i = 0; i < 5000; i++) rl.when("x");
    expect(rl.when("x")).toBe(2);
  });

  it("rejects a cap below the base", () => {
    expect(() => createRateLimiter({ baseMs: 10, capMs: 5 })).toThrow(RangeError);
  });
});
