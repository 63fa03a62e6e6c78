import { renameSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { SimCluster } from "./cluster.js";
import { MANAGEMENT_SERVICE_POLICY } from "./state.js";

/**
 * SVM management LIFs as their own HTTPS endpoints. On ONTAP an SVM-scoped account (Trident's, this
 * extension's shoot users) talks to the SVM's management LIF, not to the cluster management interface; here each
 * management LIF of every simulated cluster gets its own listener on 127.0.0.1 with its own port. The map from
 * LIF address to URL is kept in a JSON file (`{"10.130.0.10": "https://127.0.0.1:40123"}`, the format of the
 * controller's test/lab setting `credentialsVerification.managementLifUrlsFile`) and in `GET /__sim/lif-endpoints`.
 *
 * A listener follows the interfaces: it opens when a management LIF appears (before the creating request is
 * answered), moves with a PATCH of the address, and closes when the LIF or its SVM goes. An address can be made
 * unreachable (every connection is destroyed at once), as a LIF that is not routable from the seed is.
 */

export interface LifTarget {
  cluster: SimCluster;
  svmUuid: string;
}

/** What a listener hands a request to: the cluster's REST pipeline, authenticated for one SVM. */
export type LifRequestHandler = (req: IncomingMessage, res: ServerResponse, target: LifTarget, address: string) => void;

interface Endpoint {
  server: Server;
  url: string;
  reachable: boolean;
}

export interface LifEndpointInfo {
  url: string;
  cluster: string;
  svm: string;
  reachable: boolean;
}

export class LifEndpoints {
  private readonly endpoints = new Map<string, Endpoint>();
  /** Addresses marked unreachable; kept across listener restarts so a test's setting survives a LIF repair. */
  private readonly unreachable = new Set<string>();
  private syncing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly clusters: () => readonly SimCluster[],
    private readonly tls: { key: Buffer; cert: Buffer },
    readonly file: string,
    private readonly handle: LifRequestHandler,
  ) {
    this.writeFile();
  }

  /** The cluster and SVM whose management LIF currently has this address (the first cluster wins). */
  targetOf(address: string): LifTarget | undefined {
    for (const cluster of this.clusters()) {
      const state = cluster.state;
      for (const lif of state.interfaces.values()) {
        if (lif.address === address && lif.servicePolicy === MANAGEMENT_SERVICE_POLICY && state.svms.has(lif.svmUuid)) {
          return { cluster, svmUuid: lif.svmUuid };
        }
      }
    }
    return undefined;
  }

  /** Opens and closes listeners to match the management LIFs that exist now. Serialized; cheap when nothing changed. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncNow()).catch(() => {});
    return this.syncing;
  }

  list(): Record<string, LifEndpointInfo> {
    const out: Record<string, LifEndpointInfo> = {};
    for (const [address, endpoint] of [...this.endpoints].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const target = this.targetOf(address);
      out[address] = {
        url: endpoint.url,
        cluster: target?.cluster.name ?? "",
        svm: target ? (target.cluster.state.svms.get(target.svmUuid)?.name ?? "") : "",
        reachable: endpoint.reachable,
      };
    }
    return out;
  }

  /** Marks an address (un)reachable; answers false when no management LIF listens on it. */
  setReachable(address: string, reachable: boolean): boolean {
    if (reachable) this.unreachable.delete(address);
    else this.unreachable.add(address);
    const endpoint = this.endpoints.get(address);
    if (!endpoint) return false;
    endpoint.reachable = reachable;
    if (!reachable) endpoint.server.closeAllConnections();
    return true;
  }

  clearUnreachable(): void {
    for (const address of [...this.unreachable]) this.setReachable(address, true);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.syncing;
    await Promise.all([...this.endpoints.values()].map((e) => closeServer(e.server)));
    this.endpoints.clear();
  }

  private async syncNow(): Promise<void> {
    if (this.closed) return;
    const wanted = new Set<string>();
    for (const cluster of this.clusters()) {
      for (const lif of cluster.state.interfaces.values()) {
        if (lif.servicePolicy === MANAGEMENT_SERVICE_POLICY && cluster.state.svms.has(lif.svmUuid)) wanted.add(lif.address);
      }
    }
    let changed = false;
    for (const [address, endpoint] of this.endpoints) {
      if (wanted.has(address)) continue;
      this.endpoints.delete(address);
      await closeServer(endpoint.server);
      changed = true;
    }
    for (const address of wanted) {
      if (this.endpoints.has(address)) continue;
      this.endpoints.set(address, await this.open(address));
      changed = true;
    }
    if (changed) this.writeFile();
  }

  private async open(address: string): Promise<Endpoint> {
    const endpoint: Endpoint = { server: undefined as unknown as Server, url: "", reachable: !this.unreachable.has(address) };
    const server = createServer({ key: this.tls.key, cert: this.tls.cert, keepAliveTimeout: 5_000 }, (req, res) => {
      const target = this.targetOf(address);
      if (!target || !endpoint.reachable) {
        req.socket.destroy();
        return;
      }
      this.handle(req, res, target, address);
    });
    // An unreachable LIF: the connection is gone before TLS starts, as with no route to the address.
    server.on("connection", (socket) => {
      if (!endpoint.reachable) socket.destroy();
    });
    server.on("tlsClientError", () => {});
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    endpoint.server = server;
    endpoint.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return endpoint;
  }

  private writeFile(): void {
    const map = Object.fromEntries([...this.endpoints].map(([address, e]) => [address, e.url]).sort(([a], [b]) => (a! < b! ? -1 : 1)));
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(map, null, 2)}\n`);
    renameSync(tmp, this.file);
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
