import { randomInt } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A listener on port 443 of a loopback IP address (127.a.b.c: all of 127/8 is loopback on Linux) whose every
 * connection is relayed byte for byte to `target` (the simulator's listener): TLS runs end to end between the
 * client and the simulator, so a client configured with `https://127.a.b.c` (port 443 implied) really dials an IP
 * on 443 and talks to the simulator, with no dial map. Binding 443 needs root (or CAP_NET_BIND_SERVICE); the
 * address is random so tests running at once on one machine do not collide, and one in use is skipped.
 */
export interface Loopback443 {
  address: string;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function listenOnLoopback443(target: { host: string; port: number }, attempts = 8): Promise<Loopback443> {
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const address = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
    const sockets = new Set<Socket>();
    let accepted = 0;
    const server: Server = createServer((client) => {
      accepted++;
      const upstream = connect(target.port, target.host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(443, address, () => resolve());
      });
    } catch (err) {
      lastError = err;
      if ((err as NodeJS.ErrnoException).code === "EACCES") break;
      continue;
    }
    return {
      address,
      connections: () => accepted,
      async close() {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }
  throw new Error(`cannot listen on port 443 of a loopback address (needs root or CAP_NET_BIND_SERVICE): ${(lastError as Error)?.message}`);
}
