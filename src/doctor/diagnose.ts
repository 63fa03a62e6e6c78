import type { ClusterAnswer, ExpectedState, ExtensionFacts, ShootObservation } from "./observation.js";

/**
 * The pure half of `doctor`: observation -> rows (expected against actual) -> verdict and next action.
 * Rows are ordered by dependency (inputs, clusters, SVM, LIFs, user, Secret, password, Trident, status), so
 * the first row that needs an action names the thing to fix first.
 */

/** ok: as expected; warn: works, but not as it should be; fail: broken; unknown: could not be told; skip: not checked. */
export type RowStatus = "ok" | "warn" | "fail" | "unknown" | "skip";
export type Verdict = "healthy" | "degraded" | "broken" | "unknown";

export interface DoctorRow {
  check: string;
  expected: string;
  actual: string;
  status: RowStatus;
  /** What an operator should do about this row (rows that are ok have none). */
  action?: string;
  /** A reconcile repairs this row by itself: while the controller is already retrying, its action is moot. */
  repairable?: boolean;
}

export interface ShootDiagnosis {
  namespace: string;
  verdict: Verdict;
  /** The single next step: the action of the first failing row, else the first unknown one, else the first warning. */
  nextAction: string;
  /** Every distinct action, in the order of the rows. */
  actions: string[];
  rows: DoctorRow[];
}

export function reconcileCommand(namespace: string, extensionName = "ontap"): string {
  return `kubectl annotate extension -n ${namespace} ${extensionName} gardener.cloud/operation=reconcile --overwrite`;
}

export function diagnose(obs: ShootObservation): ShootDiagnosis {
  const rows = rowsFor(obs);
  const ext = obs.extension.ok ? obs.extension.value : undefined;
  const failingWith = ext?.lastOperation?.state === "Error" ? ext.lastError?.description : undefined;
  return { namespace: obs.namespace, ...verdictFor(rows, { failingWith }) };
}

/**
 * `failingWith`: the controller is already retrying and fails with this error. Then triggering a reconcile
 * for a row it would repair is no advice: the error's cause is the thing to fix.
 */
export function verdictFor(rows: readonly DoctorRow[], context: { failingWith?: string } = {}): Omit<ShootDiagnosis, "namespace"> {
  const has = (status: RowStatus) => rows.some((r) => r.status === status);
  const verdict: Verdict = has("fail") ? "broken" : has("unknown") ? "unknown" : has("warn") ? "degraded" : "healthy";
  const first = (status: RowStatus) => rows.find((r) => r.status === status && r.action);
  const row = first("fail") ?? first("unknown") ?? first("warn");
  let nextAction = row?.action ?? "nothing to do: every check matches";
  if (row?.repairable && context.failingWith) {
    const pending = rows.filter((r) => r.repairable && r.status !== "ok").map((r) => r.check);
    nextAction = `the controller is retrying and fails with: ${context.failingWith}; fix that cause: it then repairs ${summarizeChecks(pending)} by itself`;
  }
  const actions = [...new Set([nextAction, ...rows.flatMap((r) => (r.status !== "ok" && r.action ? [r.action] : []))])].filter(
    (a) => a !== "nothing to do: every check matches",
  );
  return { verdict, nextAction, actions, rows: [...rows] };
}

export function rowsFor(obs: ShootObservation): DoctorRow[] {
  const ns = obs.namespace;
  if (!obs.extension.ok) {
    return [
      {
        check: "Extension",
        expected: "readable",
        actual: `cannot be read: ${obs.extension.error}`,
        status: "unknown",
        action: `the seed's API server did not answer the doctor (${obs.extension.error}): check --kubeconfig and its permissions (get/list Extensions, Clusters, Secrets, ManagedResources)`,
      },
    ];
  }
  const ext = obs.extension.value;
  if (!ext) {
    return [
      {
        check: "Extension",
        expected: "type ontap",
        actual: "none in this namespace",
        status: "fail",
        action: `${ns} has no Extension of type ontap: the shoot does not enable the extension (Shoot spec.extensions), or Gardener has not created it yet`,
      },
    ];
  }
  const reconcile = reconcileCommand(ns, ext.name);
  const rows: DoctorRow[] = [];

  if (!obs.expected?.ok) {
    const error = obs.expected?.error ?? "not derived";
    rows.push({
      check: "inputs",
      expected: "valid providerConfig and project annotation",
      actual: error,
      status: "fail",
      action: `fix the shoot's input (${error}); the controller does not retry bad input until the Extension's spec changes`,
    });
    rows.push(...statusRows(ext, reconcile));
    return rows;
  }
  const want = obs.expected.value;
  rows.push({
    check: "inputs",
    expected: "valid providerConfig and project annotation",
    actual: `SVM ${want.svmName}, user ${want.username}, ${want.lifs.length} LIFs`,
    status: "ok",
  });
  rows.push(...clusterRows(obs.clusters));
  rows.push(svmRow(obs, want, ext, reconcile));
  rows.push(...lifRows(obs, want, reconcile));
  rows.push(userRow(obs, want, reconcile));
  rows.push(...secretRows(obs, want, reconcile));
  rows.push(...passwordRows(obs, want, reconcile));
  rows.push(...managedResourceRows(obs, want, reconcile));
  rows.push(...statusRows(ext, reconcile));
  return rows;
}

function clusterRows(clusters: readonly ClusterAnswer[]): DoctorRow[] {
  return clusters.map((c) =>
    c.kind === "no-answer"
      ? {
          check: `ONTAP cluster ${c.cluster}`,
          expected: "answers",
          actual: `no answer: ${c.error}`,
          status: "unknown",
          action: `ONTAP cluster ${c.cluster} does not answer: check its management network, certificate and the credentials in the component configuration; while any cluster cannot answer, the controller creates no SVM and this diagnosis is incomplete`,
        }
      : { check: `ONTAP cluster ${c.cluster}`, expected: "answers", actual: "answers", status: "ok" },
  );
}

function svmRow(obs: ShootObservation, want: ExpectedState, ext: ExtensionFacts, reconcile: string): DoctorRow {
  const check = `SVM ${want.svmName}`;
  const recorded = ext.recordedCluster;
  const expected = `on ${recorded ?? "one cluster"}, running, NVMe enabled`;
  const found = obs.clusters.flatMap((c) => (c.kind === "found" ? [c] : []));
  const silent = obs.clusters.filter((c) => c.kind === "no-answer").map((c) => c.cluster);
  const own = found.filter((c) => !c.svm.mirror);

  if (own.length > 1) {
    const where = own.map((c) => `${c.cluster} (${c.svm.state}, uuid ${c.svm.uuid})`).join(" and ");
    return {
      check,
      expected,
      actual: `on ${own.length} clusters: ${where}`,
      status: "fail",
      action: `SVM ${want.svmName} exists on ${own.map((c) => c.cluster).join(" and ")}: the controller refuses to pick one. Delete the wrong copy on ONTAP (the one without this project's users, LIFs and volumes${recorded ? `; providerStatus records ${recorded}` : ""}), then ${reconcile}`,
    };
  }
  const copy = own[0] ?? found[0];
  if (!copy) {
    if (silent.length > 0) {
      return {
        check,
        expected,
        actual: `unknown: absent on ${answered(obs.clusters)}, ${silent.join(", ")} did not answer`,
        status: "unknown",
        action: `cannot tell whether SVM ${want.svmName} exists while ${silent.join(", ")} does not answer; fix that cluster's reachability first`,
      };
    }
    return {
      check,
      expected,
      actual: `absent on every cluster (${answered(obs.clusters)})`,
      status: "fail",
      action: `SVM ${want.svmName} does not exist: ${reconcile}; the controller creates it${recorded ? ` on ${recorded}` : " on the cluster with the fewest volumes"}, with its LIFs, user and seed Secret`,
      repairable: true,
    };
  }
  const svm = copy.svm;
  const state = `${svm.state}, NVMe ${svm.nvmeEnabled === false ? "disabled" : svm.nvmeEnabled ? "enabled" : "not reported"}`;
  const mirror = svm.mirror ? ` as MetroCluster mirror ${svm.name} (${svm.subtype ?? "sync_destination"})` : "";
  const unknownElsewhere = silent.length > 0 ? `; ${silent.join(", ")} did not answer` : "";
  const actual = `on ${copy.cluster}${mirror}: ${state}${unknownElsewhere}`;
  if (svm.state === "initializing" || svm.state === "starting") {
    return { check, expected, actual, status: "warn", action: `SVM ${want.svmName} is ${svm.state}: wait; the controller re-checks it and continues` };
  }
  if (svm.state !== "running") {
    return {
      check,
      expected,
      actual,
      status: "fail",
      action: `SVM ${want.svmName} on ${copy.cluster} is ${svm.state}: start it on ONTAP (vserver start -vserver ${want.svmName}); the controller never recreates an SVM that exists, its data may live there`,
    };
  }
  if (svm.nvmeEnabled === false) {
    return {
      check,
      expected,
      actual,
      status: "fail",
      action: `enable the NVMe service of SVM ${want.svmName} on ${copy.cluster} (vserver nvme create -vserver ${want.svmName}), then ${reconcile}`,
    };
  }
  if (silent.length > 0) {
    return {
      check,
      expected,
      actual,
      status: "unknown",
      action: `SVM ${want.svmName} is on ${copy.cluster}, but ${silent.join(", ")} did not answer: a second copy there cannot be ruled out; fix that cluster's reachability`,
    };
  }
  if (recorded && recorded !== copy.cluster) {
    return {
      check,
      expected,
      actual: `${actual} (providerStatus records ${recorded})`,
      status: "warn",
      action: `SVM ${want.svmName} is on ${copy.cluster}, not on ${recorded} as recorded in providerStatus (a MetroCluster switchover, or the SVM was moved): ${reconcile} to record where it is`,
      repairable: true,
    };
  }
  if (svm.mirror) {
    return {
      check,
      expected,
      actual,
      status: "warn",
      action: `only the MetroCluster mirror of SVM ${want.svmName} is visible (${copy.cluster}): check the MetroCluster state (switchover in progress?)`,
    };
  }
  return { check, expected, actual, status: "ok" };
}

function lifRows(obs: ShootObservation, want: ExpectedState, reconcile: string): DoctorRow[] {
  const expectedOf = (ip: string, policy: string) => `${ip} (${policy})`;
  if (!obs.lifs) {
    return want.lifs.map((lif) => ({
      check: `LIF ${lif.name}`,
      expected: expectedOf(lif.ipAddress, lif.servicePolicy),
      actual: "not checked: no SVM to look at",
      status: "skip" as const,
    }));
  }
  if (!obs.lifs.ok) {
    const error = obs.lifs.error;
    return want.lifs.map((lif) => ({
      check: `LIF ${lif.name}`,
      expected: expectedOf(lif.ipAddress, lif.servicePolicy),
      actual: `unknown: ${error}`,
      status: "unknown" as const,
      action: `listing the LIFs on ${obs.inspectedCluster} failed (${error}); re-run doctor, and check the cluster if it persists`,
    }));
  }
  const have = new Map(obs.lifs.value.map((l) => [l.name, l.ipAddress]));
  const stateOf = new Map(obs.lifs.value.map((l) => [l.name, l.state]));
  const rows: DoctorRow[] = want.lifs.map((lif) => {
    const expected = expectedOf(lif.ipAddress, lif.servicePolicy);
    // A LIF an earlier version of this controller named `datalif<i>` counts, as the controller uses it too.
    const actual = have.get(lif.name) ?? (lif.formerName !== undefined ? have.get(lif.formerName) : undefined);
    if (actual === undefined) {
      return {
        check: `LIF ${lif.name}`,
        expected,
        actual: "missing",
        status: "fail",
        action: `${reconcile}; the controller creates missing LIFs`,
        repairable: true,
      };
    }
    if (actual !== lif.ipAddress) {
      // Not repairable by a reconcile: a LIF in use is never moved (it carries the project's NVMe/TCP paths).
      return {
        check: `LIF ${lif.name}`,
        expected,
        actual: `${actual} (differs from this shoot's providerConfig)`,
        status: "fail",
        action: `set this shoot's providerConfig address for ${lif.name} to ${actual} (the address the project's shared SVM uses), or move the LIF on ONTAP first; the controller never moves a LIF in use`,
        repairable: false,
      };
    }
    if (stateOf.get(lif.name) === "down") {
      return {
        check: `LIF ${lif.name}`,
        expected: `${expected}, up`,
        actual: `${actual}, down`,
        status: "fail",
        action: `LIF ${lif.name} on ${obs.inspectedCluster} is down: check its home port and node (network interface show -vserver ${want.svmName}); the controller never changes a LIF's state under live I/O`,
      };
    }
    return { check: `LIF ${lif.name}`, expected, actual, status: "ok" };
  });
  const foreign = obs.lifs.value.filter((l) => !want.lifs.some((w) => w.name === l.name || (w.formerName === l.name && !have.has(w.name))));
  if (foreign.length > 0) {
    rows.push({
      check: "other LIFs",
      expected: "left alone",
      actual: foreign.map((l) => `${l.name} ${l.ipAddress}`).join(", "),
      status: "ok",
    });
  }
  return rows;
}

function userRow(obs: ShootObservation, want: ExpectedState, reconcile: string): DoctorRow {
  const check = `ONTAP user ${want.username}`;
  const expected = `vsadmin on ${want.svmName}, unlocked`;
  if (!obs.account) return { check, expected, actual: "not checked: no SVM to look at", status: "skip" };
  if (!obs.account.ok) {
    return {
      check,
      expected,
      actual: `unknown: ${obs.account.error}`,
      status: "unknown",
      action: `reading the ONTAP user failed (${obs.account.error}); re-run doctor, and check ${obs.inspectedCluster} if it persists`,
    };
  }
  const account = obs.account.value;
  if (!account.found) {
    return {
      check,
      expected,
      actual: "missing",
      status: "fail",
      action: `${reconcile}; the controller creates the ONTAP user with a new password, stored in the seed Secret before ONTAP sees it`,
      repairable: true,
    };
  }
  const actual = `present (${account.role ?? "role not reported"}${account.locked ? ", LOCKED" : ""})`;
  if (account.locked) {
    return {
      check,
      expected,
      actual,
      status: "fail",
      action: `unlock ONTAP user ${want.username} on SVM ${want.svmName} (security login unlock -vserver ${want.svmName} -user-or-group-name ${want.username}); the controller does not unlock users`,
    };
  }
  return { check, expected, actual, status: "ok" };
}

function secretRows(obs: ShootObservation, want: ExpectedState, reconcile: string): DoctorRow[] {
  const rows: DoctorRow[] = [];
  const name = `${want.secret.namespace}/${want.secret.name}`;
  const check = `seed Secret ${name}`;
  const expected = `username ${want.username} + password`;
  const secret = obs.secret;
  const legacy = obs.legacySecret?.ok ? obs.legacySecret.value : undefined;
  if (!secret?.ok) {
    const error = secret && !secret.ok ? secret.error : "not read";
    rows.push({
      check,
      expected,
      actual: `unknown: ${error}`,
      status: "unknown",
      action: `the seed Secret could not be read (${error}): check the doctor's permissions (get Secrets)`,
    });
  } else if (!secret.value.found) {
    const adopt = legacy?.found && legacy.hasPassword;
    rows.push({
      check,
      expected,
      actual: "missing",
      status: "fail",
      action: adopt
        ? `the seed Secret is missing: ${reconcile}; the controller adopts the Go extension's Secret ${want.legacySecret.namespace}/${want.legacySecret.name} if its password still works, else rotates the password`
        : `the seed Secret is missing: ${reconcile}; the controller re-creates it and rotates the password`,
      repairable: true,
    });
  } else {
    const s = secret.value;
    const parts = [`username ${s.username ?? "(none)"}`, s.hasPassword ? "password set" : "NO password"];
    if (s.hasPendingPassword) parts.push("pendingPassword set");
    const actual = parts.join(", ");
    if (s.username !== want.username || !s.hasPassword) {
      rows.push({
        check,
        expected,
        actual,
        status: "fail",
        action: `the seed Secret is ${s.hasPassword ? "for another user" : "empty"}: ${reconcile}; the controller rotates the password and rewrites it`,
        repairable: true,
      });
    } else {
      rows.push({ check, expected, actual, status: "ok" });
    }
  }

  const legacyName = `${want.legacySecret.namespace}/${want.legacySecret.name}`;
  if (obs.legacySecret && !obs.legacySecret.ok) {
    rows.push({ check: `legacy Secret ${legacyName}`, expected: "absent", actual: `unknown: ${obs.legacySecret.error}`, status: "unknown" });
  } else if (legacy?.found) {
    const seedPresent = secret?.ok && secret.value.found;
    rows.push({
      check: `legacy Secret ${legacyName}`,
      expected: "absent (the Go extension's copy, adopted once)",
      actual: "present",
      status: "warn",
      action: seedPresent
        ? `the Go extension's Secret is no longer used: delete it (kubectl delete secret -n ${want.legacySecret.namespace} ${want.legacySecret.name})`
        : `${reconcile}; the controller adopts the Go extension's Secret when its password works, then removes it`,
    });
  }
  return rows;
}

function passwordRows(obs: ShootObservation, want: ExpectedState, reconcile: string): DoctorRow[] {
  const rows: DoctorRow[] = [];
  const check = "stored password";
  const expected = `authenticates as ${want.username}`;
  const password = obs.password;
  const pending = obs.pendingPassword;
  if (!password || password.result === "not-checked") {
    rows.push({ check, expected, actual: `not checked: ${password?.result === "not-checked" ? password.why : "no SVM"}`, status: "skip" });
  } else if (password.result === "no-answer") {
    rows.push({
      check,
      expected,
      actual: `unknown: ${password.error}`,
      status: "unknown",
      action: `ONTAP did not answer the login check (${password.error}); re-run doctor, and check ${obs.inspectedCluster} if it persists`,
    });
  } else if (password.result === "ok") {
    rows.push({ check, expected, actual: "authenticates", status: "ok" });
  } else if (pending?.result === "ok") {
    rows.push({
      check,
      expected,
      actual: "rejected; pendingPassword authenticates",
      status: "warn",
      action: `a password rotation was interrupted after ONTAP accepted the new password: ${reconcile}; the controller promotes pendingPassword`,
      repairable: true,
    });
  } else {
    rows.push({
      check,
      expected,
      actual: "rejected by ONTAP (drifted)",
      status: "fail",
      action: `the stored password does not authenticate (it was changed on ONTAP, or the user was re-created): ${reconcile}; the controller rotates it, storing the new password first`,
      repairable: true,
    });
  }
  if (pending && pending.result !== "not-checked") {
    const row: DoctorRow = { check: "pendingPassword", expected: "none (only during a rotation)", actual: "", status: "warn" };
    if (pending.result === "no-answer") {
      row.actual = `set; unknown: ${pending.error}`;
      row.status = "unknown";
    } else if (pending.result === "ok") {
      row.actual = password?.result === "ok" ? "set, and also authenticates" : "set, authenticates";
      row.action = `${reconcile}; the controller promotes the pending password`;
      row.repairable = true;
    } else {
      row.actual = "set, rejected (a rotation that never reached ONTAP)";
      row.action = `${reconcile}; the controller clears the stale pendingPassword (nothing is broken)`;
      row.repairable = true;
    }
    rows.push(row);
  }
  return rows;
}

function managedResourceRows(obs: ShootObservation, want: ExpectedState, reconcile: string): DoctorRow[] {
  const mrs = obs.managedResources;
  if (!mrs) return [];
  if (!mrs.ok) {
    return [
      {
        check: "ManagedResources",
        expected: want.managedResources.join(", "),
        actual: `unknown: ${mrs.error}`,
        status: "unknown",
        action: `listing ManagedResources failed (${mrs.error}): check the doctor's permissions (list managedresources.resources.gardener.cloud)`,
      },
    ];
  }
  return mrs.value.map((mr) => {
    const check = `ManagedResource ${mr.name}`;
    if (!mr.found) {
      return {
        check,
        expected: "healthy",
        actual: "missing",
        status: "fail" as const,
        action: `${reconcile}; the controller re-creates the missing ManagedResources`,
        repairable: true,
      };
    }
    if (!mr.healthy && mr.progressing) {
      return {
        check,
        expected: "healthy",
        actual: mr.reason,
        status: "warn" as const,
        action: `gardener-resource-manager has not finished applying ManagedResource ${mr.name}: re-run doctor in a minute; if it stays, check gardener-resource-manager (kubectl describe managedresource -n ${obs.namespace} ${mr.name})`,
      };
    }
    if (!mr.healthy) {
      return {
        check,
        expected: "healthy",
        actual: mr.reason,
        status: "fail" as const,
        action: `ManagedResource ${mr.name} is not healthy: look at gardener-resource-manager's view (kubectl describe managedresource -n ${obs.namespace} ${mr.name})`,
      };
    }
    return { check, expected: "healthy", actual: "healthy", status: "ok" as const };
  });
}

function statusRows(ext: ExtensionFacts, reconcile: string): DoctorRow[] {
  const rows: DoctorRow[] = [];
  const op = ext.lastOperation;
  const generation = ext.generation ?? 0;
  const expected = `Succeeded for generation ${generation}`;
  if (ext.deleting) {
    rows.push({
      check: "lastOperation",
      expected: "not being deleted",
      actual: `being deleted: ${op ? `${op.type} ${op.state}: ${op.description}` : "no status yet"}`,
      status: "warn",
      action: "the Extension is being deleted: the controller removes the ManagedResources, the ONTAP user and the seed Secret, and the SVM once unused",
    });
  } else if (!op) {
    rows.push({
      check: "lastOperation",
      expected,
      actual: "none yet",
      status: "warn",
      action: "the controller has not picked the Extension up yet: check that it runs and that its extension class matches",
    });
  } else {
    const actual = `${op.type} ${op.state}${ext.observedGeneration !== undefined ? ` (generation ${ext.observedGeneration})` : ""}: ${op.description}`;
    if (op.state === "Succeeded" && (ext.observedGeneration ?? 0) >= generation) {
      rows.push({ check: "lastOperation", expected, actual, status: "ok" });
    } else if (op.state === "Succeeded") {
      rows.push({
        check: "lastOperation",
        expected,
        actual,
        status: "warn",
        action: "the current spec is not reconciled yet: re-run doctor in a minute; if it stays, check that the controller runs",
      });
    } else if (op.state === "Failed") {
      rows.push({
        check: "lastOperation",
        expected,
        actual,
        status: "fail",
        action: "the last operation failed and is not retried until the Extension's spec changes: fix the cause in lastError",
      });
    } else if (op.state === "Processing") {
      rows.push({ check: "lastOperation", expected, actual, status: "warn", action: "a reconcile is in progress: re-run doctor in a minute" });
    } else {
      rows.push({
        check: "lastOperation",
        expected,
        actual,
        status: "warn",
        action: `the last reconcile ended in ${op.state} and the controller retries with backoff; if the rows above look right, ${reconcile} to confirm`,
      });
    }
  }
  if (ext.lastError) {
    const codes = ext.lastError.codes.length > 0 ? `[${ext.lastError.codes.join(", ")}] ` : "";
    rows.push({ check: "lastError", expected: "none", actual: `${codes}${ext.lastError.description}`, status: "warn" });
  }
  const esc = ext.escalation;
  if (esc?.status === "True") {
    rows.push({
      check: "ReconcileEscalated",
      expected: "False",
      actual: `True since ${esc.lastTransitionTime ?? "?"}: ${esc.message}`,
      status: "fail",
      action: `the controller escalated (${esc.message}): fix the cause named in lastError, then ${reconcile}`,
    });
  } else {
    rows.push({ check: "ReconcileEscalated", expected: "False", actual: esc ? `${esc.status} (${esc.reason})` : "not set", status: "ok" });
  }
  return rows;
}

/** `LIF a, LIF b, ManagedResource x, ManagedResource y` -> `2 LIFs, 2 ManagedResources`; other checks as they are. */
export function summarizeChecks(checks: readonly string[]): string {
  const groups = new Map<string, number>();
  const single: string[] = [];
  for (const check of checks) {
    const group = ["ManagedResource", "LIF"].find((prefix) => check.startsWith(`${prefix} `));
    if (group) groups.set(group, (groups.get(group) ?? 0) + 1);
    else single.push(check);
  }
  const grouped = [...groups].map(([name, n]) => (n === 1 ? checks.find((c) => c.startsWith(`${name} `)) ?? name : `${n} ${name}s`));
  return [...single, ...grouped].join(", ");
}

function answered(clusters: readonly ClusterAnswer[]): string {
  return clusters.filter((c) => c.kind !== "no-answer").map((c) => c.cluster).join(", ") || "no cluster";
}

/** The worst verdict of several shoots (for the exit code and the summary line). */
export function worstVerdict(verdicts: readonly Verdict[]): Verdict {
  const order: Verdict[] = ["broken", "unknown", "degraded", "healthy"];
  return order.find((v) => verdicts.includes(v)) ?? "healthy";
}
