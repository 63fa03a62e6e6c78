import type { ChaosLane } from "./chaos-world.js";

/** Hands out free chaos lanes to the scenarios that wait for one, first come first served. */
export class LanePool {
  private waiting: ((lane: ChaosLane) => void)[] = [];
  constructor(private readonly free: ChaosLane[]) {}
  async use<T>(work: (lane: ChaosLane) => Promise<T>): Promise<T> {
    const lane = this.free.pop() ?? (await new Promise<ChaosLane>((resolve) => this.waiting.push(resolve)));
    try {
      return await work(lane);
    } finally {
      const next = this.waiting.shift();
      if (next) next(lane);
      else this.free.push(lane);
    }
  }
}
