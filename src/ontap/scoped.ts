import type { CallOptions, OntapClient } from "./client.js";

/** What one unit of work (a reconcile) imposes on every ONTAP call it makes. */
export interface OntapCallScope {
  /** Handed to every call: an abort cancels the HTTP request and stops retries. */
  signal?: AbortSignal;
  /** Called immediately before every write operation; throws to keep it from being sent. */
  beforeWrite?: () => void;
  /** Every write waits for it first and fails with its error if it rejects (see the KubeClient's RequestScope). */
  writesAfter?: Promise<unknown>;
}

/**
 * An OntapClient whose every call carries the scope's signal and whose every write passes `beforeWrite`
 * first. Listed method by method (no Proxy) so a new client method cannot be forgotten: it fails to compile.
 */
export function scopeOntapClient(client: OntapClient, scope: OntapCallScope): OntapClient {
  const { signal, beforeWrite, writesAfter } = scope;
  const withSignal = (opts?: CallOptions): CallOptions => ({ ...opts, ...(signal ? { signal: anySignal(signal, opts?.signal) } : {}) });
  /** A write: the scope may refuse it (throw) before anything is sent. */
  const write =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      signal?.throwIfAborted();
      if (writesAfter) {
        await writesAfter;
        signal?.throwIfAborted();
      }
      beforeWrite?.();
      return call(...args);
    };
  return {
    cluster: client.cluster,
    getCluster: (o) => client.getCluster(withSignal(o)),
    listNodes: (o) => client.listNodes(withSignal(o)),
    listAggregates: (o) => client.listAggregates(withSignal(o)),
    findSvmsByName: (name, o) => client.findSvmsByName(name, withSignal(o)),
    listSvms: (o) => client.listSvms(withSignal(o)),
    getSvm: (uuid, o) => client.getSvm(uuid, withSignal(o)),
    createSvm: write((input, o) => client.createSvm(input, withSignal(o))),
    setSvmAggregates: write((uuid, aggregateUuids, o) => client.setSvmAggregates(uuid, aggregateUuids, withSignal(o))),
    deleteSvm: write((uuid, o) => client.deleteSvm(uuid, withSignal(o))),
    getJob: (uuid, o) => client.getJob(uuid, withSignal(o)),
    waitForJob: (job, o) => client.waitForJob(job, { ...o, ...(signal ? { signal: anySignal(signal, o?.signal) } : {}) }),
    listInterfaces: (svmUuid, o) => client.listInterfaces(svmUuid, withSignal(o)),
    listAllInterfaces: (o) => client.listAllInterfaces(withSignal(o)),
    createInterface: write((input, o) => client.createInterface(input, withSignal(o))),
    patchInterface: write((uuid, change, o) => client.patchInterface(uuid, change, withSignal(o))),
    deleteInterface: write((uuid, o) => client.deleteInterface(uuid, withSignal(o))),
    hasBgpPeerGroups: (o) => client.hasBgpPeerGroups(withSignal(o)),
    getAccount: (owner, name, o) => client.getAccount(owner, name, withSignal(o)),
    listAccounts: (owner, o) => client.listAccounts(owner, withSignal(o)),
    listAllAccounts: (o) => client.listAllAccounts(withSignal(o)),
    createAccount: write((input, o) => client.createAccount(input, withSignal(o))),
    deleteAccount: write((owner, name, o) => client.deleteAccount(owner, name, withSignal(o))),
    changePassword: write((input, o) => client.changePassword(input, withSignal(o))),
    setAccountComment: write((owner, name, comment, o) => client.setAccountComment(owner, name, comment, withSignal(o))),
    getRole: (owner, name, o) => client.getRole(owner, name, withSignal(o)),
    createRole: write((input, o) => client.createRole(input, withSignal(o))),
    addRolePrivilege: write((owner, role, privilege, o) => client.addRolePrivilege(owner, role, privilege, withSignal(o))),
    setRolePrivilegeAccess: write((owner, role, privilege, o) => client.setRolePrivilegeAccess(owner, role, privilege, withSignal(o))),
    removeRolePrivilege: write((owner, role, path, o) => client.removeRolePrivilege(owner, role, path, withSignal(o))),
    setAccountRole: write((owner, name, role, o) => client.setAccountRole(owner, name, role, withSignal(o))),
    countDataVolumes: (svmUuid, o) => client.countDataVolumes(svmUuid, withSignal(o)),
    authenticateAs: (credentials, o) => client.authenticateAs(credentials, withSignal(o)),
    // Closing is the owner's business, not a reconcile's.
    close: async () => {},
  };
}

function anySignal(a: AbortSignal, b: AbortSignal | undefined): AbortSignal {
  return b ? AbortSignal.any([a, b]) : a;
}
