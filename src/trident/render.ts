import { isIP } from "node:net";
import { renderReleasedTridentCrds, renderTridentCrds } from "./crds.js";
import {
  backendConfigName,
  backendName,
  CWNP_NAME,
  DEFAULT_STORAGE_CLASS_ANNOTATION,
  DEFAULT_TRIDENT_OPERATOR_IMAGE,
  FIREWALL_NAMESPACE,
  LUKS_SECRET_NAME,
  MR_TRIDENT_BACKENDS,
  MR_TRIDENT_CRDS,
  MR_TRIDENT_CWNP,
  MR_TRIDENT_INIT,
  MR_TRIDENT_SVM_SECRET,
  SHOOT_HEALTH_ROLE,
  SHOOT_HEALTH_SERVICE_ACCOUNT,
  SHOOT_SYSTEM_NAMESPACE,
  STORAGE_CLASS_ENCRYPTED,
  STORAGE_CLASS_GOLD,
  TRIDENT_CONTROLLER_APP_LABEL,
  TRIDENT_CONTROLLER_NETWORK_POLICY,
  TRIDENT_CSI_DRIVER,
  TRIDENT_NODE_DAEMONSET,
  TRIDENT_OPERATOR_NAME,
  TRIDENT_ORCHESTRATOR_NAME,
  VOLUME_SNAPSHOT_CLASS,
} from "./names.js";
import { orchestratorSettings, type TridentOrchestratorSettings } from "./orchestrator.js";
import { type TridentRelease, tridentReleaseOf } from "./release.js";
import { type ManagedResourcePlan, type TridentFacts, TridentRenderError, type TridentStorageOptions } from "./types.js";

const PART_OF_LABEL = { "app.kubernetes.io/part-of": "gardener-extension-ontap" };
const OPERATOR_APP_LABEL = "operator.trident.netapp.io";
/** The NVMe/TCP I/O port and the ONTAP REST port the shoot must reach through the metal-stack firewall. */
const NVME_TCP_PORT = 4420;
const ONTAP_HTTPS_PORT = 443;
/** A CSI provisioner template resolved per claim (the LUKS Secret lives next to the PVC), not a placeholder of ours. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: the literal `${pvc.namespace}` is what the CSI sidecars expect
const PVC_NAMESPACE_TEMPLATE = "${pvc.namespace}";
/** RFC 1123 label: the SVM name ends up inside object names. */
const SVM_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: the credentials Secret's name. */
const SECRET_NAME_PATTERN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
/** Pod CIDRs of metal-stack shoots; Go's `allow-to-trident-controller` opens Trident's controller to them. */
const TRIDENT_CONTROLLER_PEER_CIDR = "10.0.0.0/8";

/**
 * Renders Trident's shoot objects as ManagedResource plans, in the order the Go extension applies them:
 * trident-crds, trident-backends, trident-svm-secret, trident-cwnp (only with a `firewall` namespace), trident-init.
 * Pure: the same facts give deep-equal output. Throws TridentRenderError on facts that cannot produce valid objects.
 */
export function renderTridentManagedResources(facts: TridentFacts): ManagedResourcePlan[] {
  validateFacts(facts);
  const release = tridentReleaseOf(facts.operatorImage);
  const dataLifs = [...new Set(facts.dataLifs)];
  // keepObjects as the Go extension sets them: a deleted Extension (or a takeover gone wrong) must never
  // uninstall Trident or its backend from a shoot whose volumes are still in use.
  const plans: ManagedResourcePlan[] = [
    renderTridentCrdsPlan(facts.releaseCrds ?? []),
    { name: MR_TRIDENT_BACKENDS, keepObjects: true, objects: renderBackends(facts) },
    { name: MR_TRIDENT_SVM_SECRET, keepObjects: false, objects: [renderShootCredentialsSecret(facts)] },
  ];
  if (facts.firewallNamespaceExists) {
    plans.push({
      name: MR_TRIDENT_CWNP,
      keepObjects: false,
      objects: [renderClusterwideNetworkPolicy(facts.managementLif, dataLifs)],
    });
  }
  plans.push({
    name: MR_TRIDENT_INIT,
    keepObjects: true,
    objects: renderTridentInit(
      facts.operatorImage ?? DEFAULT_TRIDENT_OPERATOR_IMAGE,
      release,
      orchestratorSettings(facts.orchestrator),
      facts.operatorImageEnv ?? [],
    ),
  });
  return plans;
}

/**
 * The `trident-crds` plan alone: it depends on no fact of the shoot (only on which of Trident's CRDs are still
 * to be released), so it can be written before the SVM and the credentials are known.
 */
export function renderTridentCrdsPlan(releaseCrds: readonly string[]): ManagedResourcePlan {
  // Kept on delete: removing a CRD would delete every Trident object of that kind, volumes' metadata included.
  return { name: MR_TRIDENT_CRDS, keepObjects: true, objects: [...renderTridentCrds(), ...renderReleasedTridentCrds(releaseCrds)] };
}

function validateFacts(facts: TridentFacts): void {
  if (!SVM_NAME_PATTERN.test(facts.svmName) || facts.svmName.length > 47) {
    throw new TridentRenderError(
      `svmName ${JSON.stringify(facts.svmName)} is not usable in Kubernetes object names (lower-case letters, digits and '-', at most 47 characters)`,
    );
  }
  if (isIP(facts.managementLif) === 0) {
    throw new TridentRenderError(`managementLif ${JSON.stringify(facts.managementLif)} is not an IP address`);
  }
  if (facts.dataLifs.length === 0) throw new TridentRenderError("dataLifs is empty: at least one data LIF is required");
  for (const [i, lif] of facts.dataLifs.entries()) {
    if (isIP(lif) === 0) throw new TridentRenderError(`dataLifs[${i}] ${JSON.stringify(lif)} is not an IP address`);
  }
  if (!SECRET_NAME_PATTERN.test(facts.credentialsSecretName) || facts.credentialsSecretName.length > 253) {
    throw new TridentRenderError(
      `credentialsSecretName ${JSON.stringify(facts.credentialsSecretName)} is not a valid Secret name (lower-case letters, digits, '-' and '.', at most 253 characters)`,
    );
  }
  // The password's value never goes into a message.
  if (facts.username.length === 0) throw new TridentRenderError("username is empty");
  if (facts.password.length === 0) throw new TridentRenderError("password is empty");
  if (facts.operatorImage !== undefined && facts.operatorImage.trim() === "") {
    throw new TridentRenderError("operatorImage is set but empty");
  }
}

function hostCidr(ip: string): string {
  return isIP(ip) === 6 ? `${ip}/128` : `${ip}/32`;
}

/** What the Go extension rendered: no default StorageClass, no VolumeSnapshotClass, Trident's own volume names. */
const GO_STORAGE_OPTIONS: TridentStorageOptions = { volumeSnapshotClass: false, volumeNaming: "Trident" };

/**
 * Trident's volume name template (Go text/template over the volume's config: `RequestName` is the PVC's name,
 * `Namespace` its namespace, `Name` Trident's `pvc-<uuid>`): the shoot's Gardener project and name as literals,
 * then namespace and claim, then five characters of the UUID, which Trident itself appends when a template lacks
 * `.volume.Name` (ensureUniquenessInNameTemplate), so two claims of one name in two shoots never meet. Trident
 * turns every character ONTAP refuses into `_`; the name starts with a letter (a project name does).
 */
export function volumeNameTemplate(facts: Pick<TridentFacts, "shoot" | "svmName">): string {
  const prefix = facts.shoot ? `${facts.shoot.project}_${facts.shoot.name}` : facts.svmName;
  return `${prefix}_{{.volume.Namespace}}_{{.volume.RequestName}}_{{slice .volume.Name 4 9}}`;
}

function renderBackends(facts: TridentFacts): object[] {
  const storage = facts.storage ?? GO_STORAGE_OPTIONS;
  // Metadata only: the default-class annotation is mutable, unlike the classes' parameters.
  const defaultClass = (name: string) =>
    storage.defaultStorageClass === name ? { annotations: { [DEFAULT_STORAGE_CLASS_ANNOTATION]: "true" } } : {};
  // Trident wants an IPv6 management LIF in brackets.
  const managementLif = isIP(facts.managementLif) === 6 ? `[${facts.managementLif}]` : facts.managementLif;
  const backendConfig = {
    apiVersion: "trident.netapp.io/v1",
    kind: "TridentBackendConfig",
    metadata: { name: backendConfigName(facts.svmName), namespace: SHOOT_SYSTEM_NAMESPACE },
    spec: {
      version: 1,
      backendName: backendName(facts.svmName),
      storageDriverName: "ontap-san",
      sanType: "nvme",
      managementLIF: managementLif,
      // No `svm:`, as the Go extension removed it on purpose: Trident finds the SVM from the SVM-scoped
      // credentials, which also works after a MetroCluster switchover to the `-mc` mirror.
      credentials: { name: facts.credentialsSecretName },
      storage: [
        { labels: { luks: "true" }, defaults: { luksEncryption: "true" } },
        { labels: { luks: "false" }, defaults: { luksEncryption: "false" } },
      ],
      ...(storage.volumeNaming === "ShootAndClaim" ? { defaults: { nameTemplate: volumeNameTemplate(facts) } } : {}),
    },
  };
  // StorageClass parameters are immutable; these must stay exactly as the Go extension wrote them, or the
  // gardener-resource-manager could never update the classes it finds in a shoot taken over from it.
  const gold = {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: STORAGE_CLASS_GOLD, ...defaultClass(STORAGE_CLASS_GOLD) },
    provisioner: TRIDENT_CSI_DRIVER,
    parameters: { backendType: "ontap-san", provisioningType: "thin", selector: "luks=false", fsType: "ext4" },
    allowVolumeExpansion: true,
  };
  const encrypted = {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: STORAGE_CLASS_ENCRYPTED, ...defaultClass(STORAGE_CLASS_ENCRYPTED) },
    provisioner: TRIDENT_CSI_DRIVER,
    parameters: {
      backendType: "ontap-san",
      provisioningType: "thin",
      selector: "luks=true",
      fsType: "ext4",
      "csi.storage.k8s.io/node-expand-secret-name": LUKS_SECRET_NAME,
      "csi.storage.k8s.io/node-expand-secret-namespace": PVC_NAMESPACE_TEMPLATE,
      "csi.storage.k8s.io/node-stage-secret-name": LUKS_SECRET_NAME,
      "csi.storage.k8s.io/node-stage-secret-namespace": PVC_NAMESPACE_TEMPLATE,
    },
    allowVolumeExpansion: true,
  };
  // As Trident's own configurator creates it: without one, VolumeSnapshots of Trident's volumes cannot be taken.
  const snapshotClass = {
    apiVersion: "snapshot.storage.k8s.io/v1",
    kind: "VolumeSnapshotClass",
    metadata: { name: VOLUME_SNAPSHOT_CLASS },
    driver: TRIDENT_CSI_DRIVER,
    deletionPolicy: "Delete",
  };
  return [backendConfig, gold, encrypted, ...(storage.volumeSnapshotClass ? [snapshotClass] : []), ...renderHealthReaderRbac()];
}

/**
 * What the storage health check may read in the shoot (src/health/shoot-trident.ts): the backends' state and
 * Trident's node DaemonSet, in kube-system only. The ServiceAccount itself is the token requestor's.
 */
function renderHealthReaderRbac(): object[] {
  const role = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: SHOOT_HEALTH_ROLE, namespace: SHOOT_SYSTEM_NAMESPACE },
    rules: [
      { apiGroups: ["trident.netapp.io"], resources: ["tridentbackendconfigs"], verbs: ["get", "list"] },
      { apiGroups: ["apps"], resources: ["daemonsets"], resourceNames: [TRIDENT_NODE_DAEMONSET], verbs: ["get"] },
    ],
  };
  const binding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: SHOOT_HEALTH_ROLE, namespace: SHOOT_SYSTEM_NAMESPACE },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: SHOOT_HEALTH_ROLE },
    subjects: [{ kind: "ServiceAccount", name: SHOOT_HEALTH_SERVICE_ACCOUNT, namespace: SHOOT_SYSTEM_NAMESPACE }],
  };
  return [role, binding];
}

function renderShootCredentialsSecret(facts: TridentFacts): object {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: facts.credentialsSecretName,
      namespace: SHOOT_SYSTEM_NAMESPACE,
      // The Go extension's labels (its project-id label holds the SVM name).
      labels: { ...PART_OF_LABEL, "app.kubernetes.io/managed-by": "gardener", "ontap.metal-stack.io/project-id": facts.svmName },
    },
    type: "Opaque",
    data: {
      username: Buffer.from(facts.username, "utf8").toString("base64"),
      password: Buffer.from(facts.password, "utf8").toString("base64"),
    },
  };
}

function renderClusterwideNetworkPolicy(managementLif: string, dataLifs: string[]): object {
  return {
    apiVersion: "metal-stack.io/v1",
    kind: "ClusterwideNetworkPolicy",
    metadata: { name: CWNP_NAME, namespace: FIREWALL_NAMESPACE },
    spec: {
      egress: [
        { to: [{ cidr: hostCidr(managementLif) }], ports: [{ protocol: "TCP", port: ONTAP_HTTPS_PORT }] },
        { to: dataLifs.map((ip) => ({ cidr: hostCidr(ip) })), ports: [{ protocol: "TCP", port: NVME_TCP_PORT }] },
      ],
    },
  };
}

const ALL_VERBS = ["get", "list", "watch", "create", "delete", "update", "patch"];
const MUTATE_VERBS = ["delete", "update", "patch"];

/**
 * The operator's ClusterRole, from Trident's operator bundle as the Go extension ships it, with one change: all
 * of trident.netapp.io and groupsnapshot.storage.k8s.io instead of a list of resources. The operator creates
 * Trident's own ClusterRoles, and Kubernetes refuses to let it grant a permission it does not hold, so a list
 * that misses a resource a newer Trident needs (25.06 added TridentGroupSnapshot) breaks the install.
 */
function operatorClusterRoleRules(release: TridentRelease): object[] {
  // From 25.10 the operator also deletes VolumeAttachments (force detach) and manages the node remediation ClusterRole.
  const remediation = release.shape !== "25.06";
  const core = (resources: string[], verbs: string[], resourceNames?: string[]) => ({
    apiGroups: [""],
    resources,
    verbs,
    ...(resourceNames ? { resourceNames } : {}),
  });
  const group = (apiGroups: string[], resources: string[], verbs: string[], resourceNames?: string[]) => ({
    apiGroups,
    resources,
    verbs,
    ...(resourceNames ? { resourceNames } : {}),
  });
  const tridentWorkloads = ["trident-controller", "trident-node-linux", "trident-node-windows", "trident-csi", "trident"];
  return [
    core(["namespaces"], ["get", "list", "create", "patch"]),
    core(["persistentvolumes", "persistentvolumeclaims"], ALL_VERBS),
    core(["persistentvolumeclaims/status"], ["update", "patch"]),
    core(["events"], ["get", "list", "watch", "create", "update", "patch"]),
    core(["secrets", "resourcequotas", "pods"], ALL_VERBS),
    core(["pods/log"], ["get", "list", "watch"]),
    core(["nodes"], ["get", "list", "watch", "update"]),
    core(["pods/exec", "services", "serviceaccounts"], ["get", "list", "create"]),
    core(["pods/exec", "services"], MUTATE_VERBS, ["trident-csi", "trident"]),
    core(["serviceaccounts"], MUTATE_VERBS, tridentWorkloads),
    group(["storage.k8s.io"], ["storageclasses", "csidrivers", "csinodes"], ALL_VERBS),
    group(["storage.k8s.io"], ["volumeattachments"], ["get", "list", "watch", "update", "patch", ...(remediation ? ["delete"] : [])]),
    group(["storage.k8s.io"], ["volumeattachments/status"], ["update", "patch"]),
    group(["snapshot.storage.k8s.io"], ["volumesnapshots", "volumesnapshotclasses"], [
      "get",
      "list",
      "watch",
      "update",
      "patch",
    ]),
    group(["snapshot.storage.k8s.io"], ["volumesnapshotclasses"], ["create"]),
    group(["snapshot.storage.k8s.io"], ["volumesnapshots/status", "volumesnapshotcontents/status"], ["update", "patch"]),
    group(["snapshot.storage.k8s.io"], ["volumesnapshotcontents"], ALL_VERBS),
    group(["groupsnapshot.storage.k8s.io"], ["*"], ALL_VERBS),
    group(["csi.storage.k8s.io"], ["csidrivers", "csinodeinfos"], ALL_VERBS),
    group(["apiextensions.k8s.io"], ["customresourcedefinitions"], ALL_VERBS),
    group(["trident.netapp.io"], ["*"], ALL_VERBS),
    group(["apps"], ["deployments", "daemonsets", "statefulsets"], ["get", "list", "watch", "create"]),
    group(["apps"], ["deployments", "statefulsets"], MUTATE_VERBS, ["trident", "trident-csi", "trident-controller"]),
    group(["apps"], ["daemonsets"], MUTATE_VERBS, [
      "trident",
      "trident-csi",
      "trident-csi-windows",
      "trident-node-linux",
      "trident-node-windows",
    ]),
    group(["authorization.openshift.io", "rbac.authorization.k8s.io"], [
      "roles",
      "rolebindings",
      "clusterroles",
      "clusterrolebindings",
    ], ["list", "create"]),
    group(
      ["authorization.openshift.io", "rbac.authorization.k8s.io"],
      ["roles", "rolebindings", "clusterroles", "clusterrolebindings"],
      remediation ? ["get", ...MUTATE_VERBS] : MUTATE_VERBS,
      remediation ? ["trident-node-remediation-access", ...tridentWorkloads] : tridentWorkloads,
    ),
    group(["policy"], ["podsecuritypolicies"], ["list", "create"]),
    group(["policy"], ["podsecuritypolicies"], MUTATE_VERBS, ["tridentpods"]),
    group(["policy"], ["podsecuritypolicies"], ["use"], [
      "tridentpods",
      "trident-controller",
      "trident-node-linux",
      "trident-node-windows",
      "tridentoperatorpods",
    ]),
    group(["security.openshift.io"], ["securitycontextconstraints"], ["get", "list", "create"]),
    group(["security.openshift.io"], ["securitycontextconstraints"], MUTATE_VERBS, [
      "trident-controller",
      "trident-node-linux",
      "trident-node-windows",
      "trident",
    ]),
  ];
}

function renderTridentInit(
  operatorImage: string,
  release: TridentRelease,
  settings: TridentOrchestratorSettings,
  imageEnv: readonly { name: string; value: string }[],
): object[] {
  const operatorLabels = { app: OPERATOR_APP_LABEL };
  const selector = { app: OPERATOR_APP_LABEL, name: TRIDENT_OPERATOR_NAME };
  const serviceAccount = {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: TRIDENT_OPERATOR_NAME, namespace: SHOOT_SYSTEM_NAMESPACE, labels: operatorLabels },
  };
  const clusterRole = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: TRIDENT_OPERATOR_NAME, labels: operatorLabels },
    rules: operatorClusterRoleRules(release),
  };
  const clusterRoleBinding = {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: TRIDENT_OPERATOR_NAME, labels: operatorLabels },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: TRIDENT_OPERATOR_NAME },
    subjects: [{ kind: "ServiceAccount", name: TRIDENT_OPERATOR_NAME, namespace: SHOOT_SYSTEM_NAMESPACE }],
  };
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: TRIDENT_OPERATOR_NAME, namespace: SHOOT_SYSTEM_NAMESPACE, labels: operatorLabels },
    spec: {
      replicas: 1,
      // Two operators reconciling the same TridentOrchestrator would fight; never run old and new together.
      strategy: { type: "Recreate" },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: {
            ...selector,
            // Gardener's shoot network policies, as the Go extension sets them: the operator talks to the shoot's
            // API server, resolves names and pulls Trident's images from public registries.
            "networking.gardener.cloud/to-apiserver": "allowed",
            "networking.gardener.cloud/to-dns": "allowed",
            "networking.gardener.cloud/to-public-networks": "allowed",
          },
        },
        spec: {
          serviceAccountName: TRIDENT_OPERATOR_NAME,
          containers: [
            {
              name: TRIDENT_OPERATOR_NAME,
              image: operatorImage,
              imagePullPolicy: "IfNotPresent",
              command: ["/trident-operator", "--log-level=debug"],
              env: [
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "OPERATOR_NAME", value: TRIDENT_OPERATOR_NAME },
                // Images of the image vector that differ from the release's own (selection.ts): in the operator's
                // pod, so they change together with the operator, which upgrades Trident (its documented order).
                ...imageEnv.map((e) => ({ name: e.name, value: e.value })),
              ],
              // Trident's bundle of each release (which the Go extension copies for 25.06): 25.10 dropped the limits.
              resources:
                release.shape !== "25.06"
                  ? { requests: { cpu: "10m", memory: "40Mi" } }
                  : { requests: { cpu: "10m", memory: "40Mi" }, limits: { cpu: "20m", memory: "80Mi" } },
              // Stricter than Trident's bundle (`drop: [all]`): the restricted Pod Security Standard wants `ALL`
              // and no privilege escalation. 26.06's bundle adds the read-only root filesystem.
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
                ...(release.shape === "26.06" ? { readOnlyRootFilesystem: true } : {}),
              },
            },
          ],
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: "kubernetes.io/arch", operator: "In", values: ["arm64", "amd64"] },
                      { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
                    ],
                  },
                ],
              },
            },
          },
        },
      },
    },
  };
  const orchestrator = {
    apiVersion: "trident.netapp.io/v1",
    kind: "TridentOrchestrator",
    metadata: { name: TRIDENT_ORCHESTRATOR_NAME },
    // The Go extension's settings unless configured otherwise, so taking a shoot over does not make the
    // operator reinstall Trident.
    spec: {
      namespace: SHOOT_SYSTEM_NAMESPACE,
      enableForceDetach: settings.enableForceDetach,
      IPv6: settings.IPv6,
      k8sTimeout: settings.k8sTimeout,
      httpRequestTimeout: settings.httpRequestTimeout,
      silenceAutosupport: settings.silenceAutosupport,
      autosupportInsecure: settings.autosupportInsecure,
      logFormat: settings.logFormat,
      disableAuditLog: settings.disableAuditLog,
      debug: settings.debug,
      imagePullSecrets: [...settings.imagePullSecrets],
      imagePullPolicy: settings.imagePullPolicy,
      windows: settings.windows,
      enableACP: settings.enableACP,
      enableAutoBackendConfig: settings.enableAutoBackendConfig,
      iscsiSelfHealingInterval: settings.iscsiSelfHealingInterval,
      iscsiSelfHealingWaitTime: settings.iscsiSelfHealingWaitTime,
    },
  };
  // Trident's controller talks to ONTAP and is reached by the node pods; shoots with a default-deny policy
  // need this (the Go extension renders it, so dropping it would cut live shoots off their storage).
  const controllerPolicy = {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: TRIDENT_CONTROLLER_NETWORK_POLICY, namespace: SHOOT_SYSTEM_NAMESPACE },
    spec: {
      podSelector: { matchLabels: { app: TRIDENT_CONTROLLER_APP_LABEL } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: [{ ipBlock: { cidr: TRIDENT_CONTROLLER_PEER_CIDR } }] }],
      egress: [{ to: [{ ipBlock: { cidr: TRIDENT_CONTROLLER_PEER_CIDR } }] }],
    },
  };
  return [serviceAccount, clusterRole, clusterRoleBinding, deployment, orchestrator, controllerPolicy];
}
