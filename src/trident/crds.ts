/**
 * The CustomResourceDefinitions of group trident.netapp.io. Scope, names, short names, categories, status
 * subresources and printer columns follow Trident's own definitions (25.06; TridentNode as 26.10 has it), so when the Trident installer patches
 * a CRD it already finds (it creates or patches all of them at start) it changes nothing that matters and the
 * gardener-resource-manager does not fight it. Schemas are open (x-kubernetes-preserve-unknown-fields): Trident
 * validates its objects itself, and an open schema accepts everything every Trident version stores.
 */

export const TRIDENT_GROUP = "trident.netapp.io";

interface PrinterColumn {
  name: string;
  type: "string" | "date" | "integer" | "boolean";
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface TridentCrdSpec {
  kind: string;
  plural: string;
  shortNames: string[];
  categories: string[];
  scope: "Namespaced" | "Cluster";
  status: boolean;
  columns: PrinterColumn[];
}

const INTERNAL = ["trident", "trident-internal"];
const EXTERNAL = ["trident", "trident-internal", "trident-external"];

/**
 * The 15 CRDs Trident itself installs (its `obliviate crd` list minus the operator's two). These are the CRDs the
 * shoot webhook labels, because Trident re-creates them outside any ManagedResource.
 */
const TRIDENT_OWN_CRDS: TridentCrdSpec[] = [
  {
    kind: "TridentVersion",
    plural: "tridentversions",
    shortNames: ["tver", "tversion"],
    categories: INTERNAL,
    scope: "Namespaced",
    status: false,
    columns: [{ name: "Version", type: "string", jsonPath: ".trident_version", description: "The Trident version" }],
  },
  {
    kind: "TridentBackendConfig",
    plural: "tridentbackendconfigs",
    shortNames: ["tbc", "tbconfig", "tbackendconfig"],
    categories: EXTERNAL,
    scope: "Namespaced",
    status: true,
    columns: [
      { name: "Backend Name", type: "string", jsonPath: ".status.backendInfo.backendName" },
      { name: "Backend UUID", type: "string", jsonPath: ".status.backendInfo.backendUUID" },
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      { name: "Status", type: "string", jsonPath: ".status.lastOperationStatus" },
      { name: "Storage Driver", type: "string", jsonPath: ".spec.storageDriverName", priority: 1 },
      { name: "Deletion Policy", type: "string", jsonPath: ".status.deletionPolicy", priority: 1 },
    ],
  },
  {
    kind: "TridentBackend",
    plural: "tridentbackends",
    shortNames: ["tbe", "tbackend"],
    categories: INTERNAL,
    scope: "Namespaced",
    status: false,
    columns: [
      { name: "Backend", type: "string", jsonPath: ".backendName" },
      { name: "Backend UUID", type: "string", jsonPath: ".backendUUID" },
    ],
  },
  {
    kind: "TridentStorageClass",
    plural: "tridentstorageclasses",
    shortNames: ["tsc", "tstorageclass"],
    categories: INTERNAL,
    scope: "Namespaced",
    status: false,
    columns: [],
  },
  {
    kind: "TridentMirrorRelationship",
    plural: "tridentmirrorrelationships",
    shortNames: ["tmr", "tmrelationship", "tmirrorrelationship"],
    categories: EXTERNAL,
    scope: "Namespaced",
    status: true,
    columns: [
      { name: "Desired State", type: "string", jsonPath: ".spec.state" },
      { name: "Local PVC", type: "string", jsonPath: ".spec.volumeMappings[*].localPVCName" },
      { name: "Actual state", type: "string", jsonPath: ".status.conditions[*].state" },
      { name: "Message", type: "string", jsonPath: ".status.conditions[*].message" },
    ],
  },
  {
    kind: "TridentActionMirrorUpdate",
    plural: "tridentactionmirrorupdates",
    shortNames: ["tamu", "tamupdate", "tamirrorupdate"],
    categories: ["trident", "trident-external"],
    scope: "Namespaced",
    status: false,
    columns: [
      { name: "State", type: "string", jsonPath: ".status.state" },
      { name: "CompletionTime", type: "date", jsonPath: ".status.completionTime" },
      { name: "Message", type: "string", jsonPath: ".status.message", priority: 1 },
    ],
  },
  {
    kind: "TridentSnapshotInfo",
    plural: "tridentsnapshotinfos",
    shortNames: ["tsi", "tsinfo", "tsnapshotinfo"],
    categories: EXTERNAL,
    scope: "Namespaced",
    status: true,
    columns: [{ name: "Snapshot Handle", type: "string", jsonPath: ".status.snapshotHandle" }],
  },
  {
    kind: "TridentVolume",
    plural: "tridentvolumes",
    shortNames: ["tvol", "tvolume"],
    categories: INTERNAL,
    scope: "Namespaced",
    status: false,
    columns: [
      { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
      { name: "Size", type: "string", jsonPath: ".config.size", priority: 1 },
      { name: "Storage Class", type: "string", jsonPath: ".config.storageClass", priority: 1 },
      { name: "State", type: "string", jsonPath: ".state", priority: 1 },
      { name: "Protocol", type: "string", jsonPath: ".config.protocol", priority: 1 },
      { name: "Backend UUID", type: "string", jsonPath: ".backendUUID", priority: 1 },
      { name: "Pool", type: "string", jsonPath: ".pool", priority: 1 },
    ],
  },
  {
    kind: "TridentVolumePublication",
    plural: "tridentvolumepublications",
    shortNames: ["tvp", "tvpub", "tvpublication", "tvolpub", "tvolumepub", "tvolpublication", "tvolumepublication"],
    categories: INTERNAL,
    scope: "Namespaced",
    status: false,
    columns: [
      { name: "Volume", type: "string", jsonPath: ".volumeID" },
      { name: "Node", type: "string", jsonPath: ".nodeID" },
    ],
  },
  {
    // As Trident 26.10 (master) defines it: a status subresource its controller writes (registration
    // acknowledgements, `tridentnodes/status` in the operator's ClusterRole) and printer columns over it. Earlier
    // releases have neither; a copy without them, were it ever applied, would drop the status Trident writes.
    kind: "TridentNode",
    plural: "tridentnodes",
    shortNames: ["tnode"],
    categories: INTERNAL,
    scope: "Namespaced",
    status: true,
    columns: [
      { name: "Registered", type: "boolean", jsonPath: ".status.registered", description: "Controller acknowledged registration" },
      { name: "IPs", type: "string", jsonPath: ".spec.ips", description: "Node IP addresses", priority: 1 },
      { name: "Generation", type: "integer", jsonPath: ".metadata.generation", description: "Desired generation", priority: 1 },
      { name: "ObservedGeneration", type: "integer", jsonPath: ".status.observedGeneration", description: "Reconciled generation", priority: 1 },
      {
        name: "LastRegistered",
        type: "date",
        jsonPath: ".status.lastRegistrationTime",
        description: "Last controller registration acknowledgement",
        priority: 1,
      },
    ],
  },
  {
    kind: "TridentTransaction",
    plural: "tridenttransactions",
    shortNames: ["ttx", "ttransaction"],
    categories: ["trident-internal"],
    scope: "Namespaced",
    status: false,
    columns: [],
  },
  {
    kind: "TridentSnapshot",
    plural: "tridentsnapshots",
    shortNames: ["tss", "tsnap", "tsnapshot"],
    categories: INTERNAL,
    scope: "Namespaced",
    status: false,
    columns: [{ name: "State", type: "string", jsonPath: ".state", priority: 1 }],
  },
  {
    kind: "TridentGroupSnapshot",
    plural: "tridentgroupsnapshots",
    shortNames: ["tgsnap", "tgsnapshot"],
    categories: INTERNAL,
    scope: "Namespaced",
    status: false,
    columns: [],
  },
  {
    kind: "TridentVolumeReference",
    plural: "tridentvolumereferences",
    shortNames: ["tvr", "tvref"],
    categories: ["trident", "trident-external", "trident-internal"],
    scope: "Namespaced",
    status: false,
    columns: [],
  },
  {
    kind: "TridentActionSnapshotRestore",
    plural: "tridentactionsnapshotrestores",
    shortNames: ["tasr"],
    categories: ["trident", "trident-external"],
    scope: "Namespaced",
    status: false,
    columns: [
      { name: "PVC", type: "string", jsonPath: ".spec.pvcName" },
      { name: "Snapshot", type: "string", jsonPath: ".spec.volumeSnapshotName" },
      { name: "State", type: "string", jsonPath: ".status.state" },
      { name: "CompletionTime", type: "date", jsonPath: ".status.completionTime" },
      { name: "Message", type: "string", jsonPath: ".status.message", priority: 1 },
    ],
  },
];

/**
 * The operator's own CRDs. They must exist before `trident-init` creates the TridentOrchestrator, and nothing but
 * this extension installs them (Trident's installer only creates the 15 above).
 */
const OPERATOR_CRDS: TridentCrdSpec[] = [
  {
    kind: "TridentOrchestrator",
    plural: "tridentorchestrators",
    shortNames: ["torc", "torchestrator"],
    categories: [],
    scope: "Cluster",
    status: true,
    columns: [],
  },
  {
    kind: "TridentConfigurator",
    plural: "tridentconfigurators",
    shortNames: ["tconf", "tconfigurator"],
    categories: EXTERNAL,
    scope: "Cluster",
    status: true,
    columns: [
      // Descriptions as the Go extension's copy of Trident's CRD has them.
      { name: "Phase", type: "string", jsonPath: ".status.phase", description: "The backend config phase" },
      { name: "Status", type: "string", jsonPath: ".status.lastOperationStatus", description: "The result of the last operation" },
      { name: "Cloud Provider", type: "string", jsonPath: ".status.cloudProvider", description: "The name of cloud provider" },
      { name: "Storage Driver", type: "string", jsonPath: ".spec.storageDriverName", priority: 1, description: "The storage driver type" },
      { name: "Deletion Policy", type: "string", jsonPath: ".status.deletionPolicy", priority: 1, description: "The deletion policy" },
    ],
  },
];

function crdName(spec: TridentCrdSpec): string {
  return `${spec.plural}.${TRIDENT_GROUP}`;
}

/** Names of the 15 CRDs Trident installs itself; the shoot webhook labels exactly these. */
export const TRIDENT_CRD_NAMES: readonly string[] = Object.freeze(TRIDENT_OWN_CRDS.map(crdName));
/** Names of the operator's CRDs (TridentOrchestrator, TridentConfigurator). */
export const TRIDENT_OPERATOR_CRD_NAMES: readonly string[] = Object.freeze(OPERATOR_CRDS.map(crdName));

function renderCrd(spec: TridentCrdSpec): object {
  const singular = spec.kind.toLowerCase();
  const version: Record<string, unknown> = {
    name: "v1",
    served: true,
    storage: true,
    schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
  };
  if (spec.status) version["subresources"] = { status: {} };
  if (spec.columns.length > 0) {
    version["additionalPrinterColumns"] = spec.columns.map((c) => ({
      name: c.name,
      type: c.type,
      jsonPath: c.jsonPath,
      ...(c.description ? { description: c.description } : {}),
      // Only when not 0: kube-apiserver drops a zero priority (omitempty), and gardener-resource-manager, which
      // compares the rendered object with the stored one, would send an update on every re-apply.
      ...(c.priority ? { priority: c.priority } : {}),
    }));
  }
  const names: Record<string, unknown> = {
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    plural: spec.plural,
    singular,
    shortNames: spec.shortNames,
  };
  if (spec.categories.length > 0) names["categories"] = spec.categories;
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: crdName(spec) },
    // conversion: the API server's default, written out for the same reason as the priority above.
    spec: { group: TRIDENT_GROUP, scope: spec.scope, names, versions: [version], conversion: { strategy: "None" } },
  };
}

/**
 * The operator's two CRDs, as the Go extension's `trident-crds` holds them. Trident's installer creates and
 * patches its other 15 itself; holding them too would make gardener-resource-manager and Trident fight over
 * them (and change their owner on every shoot taken over from the Go extension).
 */
export function renderTridentCrds(): object[] {
  return OPERATOR_CRDS.map(renderCrd);
}

/** The annotation that makes gardener-resource-manager drop an object from a ManagedResource without touching it. */
export const MODE_ANNOTATION = "resources.gardener.cloud/mode";

/**
 * Trident's own CRDs among `names`, each marked `mode: Ignore`: gardener-resource-manager then removes them
 * from the ManagedResource's status (and their origin annotation) and leaves them in the shoot, so the next
 * rendering can drop them without the resource manager deleting them.
 */
export function renderReleasedTridentCrds(names: readonly string[]): object[] {
  return TRIDENT_OWN_CRDS.filter((spec) => names.includes(crdName(spec))).map((spec) => {
    const crd = renderCrd(spec) as { metadata: Record<string, unknown> };
    crd.metadata["annotations"] = { [MODE_ANNOTATION]: "Ignore" };
    return crd;
  });
}
