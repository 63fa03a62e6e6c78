/**
 * What Gardener creates for a shoot before its Extension: the shoot namespace on the seed and the
 * cluster-scoped `Cluster` carrying the raw Shoot (with metal-stack's project annotation). Used by the
 * demo and the tests so every story starts from the same objects.
 *
 * Two sizes of Cluster: `clusterObject` carries only what a story needs (about 0.3 KiB), `realisticClusterObject`
 * what gardenlet really writes: the whole CloudProfile, Seed and Shoot. A metal-stack CloudProfile lists every
 * machine type, every dated build of every OS image (with its minor version), every firewall image and
 * firewall-controller release, every Kubernetes version and partition (the shape metal-stack/metal-roles renders
 * in `control-plane/roles/gardener/templates/30-cloud-profile-metal.yaml`), so a seed's Clusters are tens to
 * hundreds of KiB each. Benchmarks and soaks use the realistic ones so their memory figures mean what a seed sees.
 */
export const PROJECT_ANNOTATION = "cluster.metal-stack.io/project";

export interface ShootIdentity {
  /** `shoot--<project>--<shoot>` */
  namespace: string;
  shootName: string;
  /** Gardener project name. */
  project: string;
  /** Annotations of the Shoot; normally `{ [PROJECT_ANNOTATION]: projectId }`. */
  shootAnnotations: Record<string, string>;
}

export function shootNamespaceObject(namespace: string) {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } };
}

export function clusterObject(shoot: ShootIdentity) {
  return {
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Cluster",
    metadata: { name: shoot.namespace },
    spec: {
      cloudProfile: { apiVersion: "core.gardener.cloud/v1beta1", kind: "CloudProfile" },
      seed: { apiVersion: "core.gardener.cloud/v1beta1", kind: "Seed" },
      shoot: {
        apiVersion: "core.gardener.cloud/v1beta1",
        kind: "Shoot",
        metadata: { name: shoot.shootName, namespace: `garden-${shoot.project}`, annotations: { ...shoot.shootAnnotations } },
      },
    },
  };
}

/** How many of each list a metal-stack CloudProfile carries. */
export interface CloudProfileShape {
  kubernetesVersions: number;
  machineTypes: number;
  /** OS images offered to workers; each gets `buildsPerImage` dated builds plus their minor versions. */
  images: readonly string[];
  buildsPerImage: number;
  firewallImages: number;
  firewallControllerVersions: number;
  partitions: number;
}

/**
 * A landscape that has run for a year or two: daily OS builds kept for a few months, every firewall image and
 * controller release still referenced by some shoot. `metalCloudProfile()` of this shape is about 95 KiB of
 * JSON; the Cluster that embeds it, a Seed and a Shoot about 110 KiB (test/unit/gardener-objects.test.ts
 * states both).
 */
export const METAL_CLOUD_PROFILE_SHAPE: CloudProfileShape = {
  kubernetesVersions: 36,
  machineTypes: 40,
  images: ["ubuntu", "debian", "almalinux"],
  buildsPerImage: 110,
  firewallImages: 120,
  firewallControllerVersions: 60,
  partitions: 6,
};

const MACHINE_FAMILIES = ["c1", "c2", "n1", "n2", "s2", "s3", "g1", "m1"];
const MACHINE_SIZES = ["small", "medium", "large", "xlarge", "2xlarge"];
const IMAGE_MAJORS: Record<string, string[]> = {
  ubuntu: ["20.04", "22.04", "24.04"],
  debian: ["11", "12", "13"],
  almalinux: ["8", "9"],
};

/** A date `i` days before 2026-11-30 as metal-stack's image builds name it (yyyymmdd). */
function buildDate(i: number): string {
  const d = new Date(Date.UTC(2026, 10, 30) - i * 86_400_000);
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, "0")}${String(d.getUTCDate()).padStart(2, "0")}`;
}

const expires = (i: number) => new Date(Date.UTC(2027, 0, 31) - i * 86_400_000).toISOString().replace(".000Z", "Z");

/** The CloudProfile gardenlet embeds into every Cluster of a metal-stack seed, deterministic for a shape. */
export function metalCloudProfile(shape: CloudProfileShape = METAL_CLOUD_PROFILE_SHAPE) {
  const partitionNames = Array.from({ length: shape.partitions }, (_, i) => `fra-equ0${i + 1}`);
  const machineTypes = Array.from({ length: shape.machineTypes }, (_, i) => {
    const family = MACHINE_FAMILIES[i % MACHINE_FAMILIES.length]!;
    const size = MACHINE_SIZES[Math.floor(i / MACHINE_FAMILIES.length) % MACHINE_SIZES.length]!;
    const arch = i % 7 === 6 ? "arm64" : "amd64";
    const generation = Math.floor(i / (MACHINE_FAMILIES.length * MACHINE_SIZES.length));
    return {
      name: `${family}-${size}${generation ? `-v${generation + 1}` : ""}-${arch === "amd64" ? "x86" : "arm"}`,
      architecture: arch,
      cpu: String(4 * 2 ** (i % 5)),
      gpu: family === "g1" ? "2" : "0",
      memory: `${32 * 2 ** (i % 5)}Gi`,
      storage: { class: "local-nvme", type: "nvme", size: `${480 * 2 ** (i % 4)}Gi` },
      usable: true,
    };
  });
  const machineImages = shape.images.map((name) => {
    const majors = IMAGE_MAJORS[name] ?? ["1"];
    const versions: object[] = [];
    for (const major of majors) versions.push({ version: major, cri: [{ name: "containerd" }], architectures: ["amd64", "arm64"], classification: "supported" });
    for (let i = 0; i < shape.buildsPerImage; i++) {
      const major = majors[i % majors.length]!;
      versions.push({
        version: `${major}.${buildDate(i)}`,
        cri: [{ name: "containerd", containerRuntimes: [] }],
        architectures: ["amd64", "arm64"],
        kubeletVersionConstraint: ">= 1.27",
        classification: i < 10 ? "supported" : "deprecated",
        ...(i >= 10 ? { expirationDate: expires(i) } : {}),
      });
    }
    return { name, updateStrategy: "major", versions };
  });
  const firewallImages = Array.from({ length: shape.firewallImages }, (_, i) => `firewall-ubuntu-3.0.${buildDate(i)}`);
  const firewallControllerVersions = Array.from({ length: shape.firewallControllerVersions }, (_, i) => {
    const version = `v2.${Math.floor(i / 10)}.${i % 10}`;
    return {
      version,
      url: `https://images.metal-stack.io/firewall-controller/${version}/firewall-controller`,
      classification: i >= shape.firewallControllerVersions - 3 ? "supported" : "deprecated",
    };
  });
  return {
    apiVersion: "core.gardener.cloud/v1beta1",
    kind: "CloudProfile",
    metadata: {
      name: "metal",
      uid: "7c5d7d1e-4f4c-4bb0-9a55-0c2e6c6b6c01",
      resourceVersion: "918273",
      generation: 412,
      creationTimestamp: "2024-03-01T09:00:00Z",
      labels: { "app.kubernetes.io/managed-by": "metal-roles" },
    },
    spec: {
      type: "metal",
      providerConfig: {
        apiVersion: "metal.provider.extensions.gardener.cloud/v1alpha1",
        kind: "CloudProfileConfig",
        metalControlPlanes: {
          prod: {
            endpoint: "https://api.metal.example.invalid",
            firewallImages,
            firewallControllerVersions,
            partitions: Object.fromEntries(
              partitionNames.map((p, i) => [p, { firewallTypes: ["c1-large-x86", "n1-medium-x86"], ...(i % 2 ? { networkIsolation: { allowedNetworks: { ingress: ["10.0.0.0/8"], egress: ["10.0.0.0/8"] }, dnsServers: ["10.1.0.1", "10.1.0.2"], ntpServers: ["10.1.0.3"], registryMirrors: [{ name: "mirror", endpoint: "https://registry.example.invalid", ip: "10.1.0.4", port: 443, mirrorOf: ["docker.io", "ghcr.io", "quay.io", "registry.k8s.io"] }] } } : {}) }]),
            ),
          },
        },
      },
      kubernetes: {
        versions: Array.from({ length: shape.kubernetesVersions }, (_, i) => ({
          version: `1.${33 - Math.floor(i / 6)}.${(i % 6) * 3}`,
          classification: i < 6 ? "supported" : "deprecated",
          ...(i >= 6 ? { expirationDate: expires(i * 10) } : {}),
        })),
      },
      machineImages,
      machineTypes,
      regions: [{ name: "fra", zones: partitionNames.map((name) => ({ name })) }],
    },
  };
}

/** The Seed as gardenlet embeds it: provider, networks, settings, and a status with its conditions. */
export function metalSeed(name = "metal-seed-1") {
  const condition = (type: string) => ({
    type,
    status: "True",
    lastTransitionTime: "2026-11-01T10:00:00Z",
    lastUpdateTime: "2026-11-30T10:00:00Z",
    reason: `${type}Ready`,
    message: `${type} is healthy.`,
  });
  return {
    apiVersion: "core.gardener.cloud/v1beta1",
    kind: "Seed",
    metadata: { name, uid: "3f1c2f44-5e0b-4a2d-9d4f-2b1f0a9e7c11", resourceVersion: "55501", generation: 31, labels: { "seed.gardener.cloud/gardenlet": "true" } },
    spec: {
      backup: { provider: "S3", region: "fra", credentialsRef: { apiVersion: "v1", kind: "Secret", namespace: "garden", name: "backup-secret" } },
      dns: { provider: { type: "powerdns", secretRef: { namespace: "garden", name: "dns" } } },
      ingress: { domain: "ingress.seed.example.invalid", controller: { kind: "nginx" } },
      networks: { nodes: "10.10.0.0/16", pods: "10.244.0.0/16", services: "10.245.0.0/16", shootDefaults: { pods: "10.244.128.0/17", services: "10.245.128.0/17" } },
      provider: { type: "metal", region: "fra", zones: ["fra-equ01", "fra-equ02"] },
      settings: {
        dependencyWatchdog: { prober: { enabled: true }, weeder: { enabled: true } },
        excessCapacityReservation: { enabled: false },
        scheduling: { visible: true },
        topologyAwareRouting: { enabled: false },
        verticalPodAutoscaler: { enabled: true },
      },
      taints: [{ key: "seed.gardener.cloud/protected" }],
    },
    status: {
      allocatable: { shoots: "250" },
      capacity: { shoots: "250" },
      clusterIdentity: "metal-seed-1-garden",
      conditions: ["GardenletReady", "ExtensionsReady", "BackupBucketsReady", "SeedSystemComponentsHealthy"].map(condition),
      gardener: { id: "b2f6…", name: "gardenlet-7d9c8", version: "v1.110.0" },
      kubernetesVersion: "v1.31.4",
      lastOperation: { type: "Reconcile", state: "Succeeded", progress: 100, description: "Seed cluster has been successfully reconciled.", lastUpdateTime: "2026-11-30T10:00:00Z" },
      observedGeneration: 31,
    },
  };
}

/** The Shoot as gardenlet embeds it: spec with workers and provider configs, status with conditions. */
export function metalShoot(shoot: ShootIdentity) {
  const condition = (type: string) => ({
    type,
    status: "True",
    lastTransitionTime: "2026-11-02T08:00:00Z",
    lastUpdateTime: "2026-11-30T11:00:00Z",
    reason: `${type}Healthy`,
    message: `All ${type} checks are passing.`,
    codes: [],
  });
  return {
    apiVersion: "core.gardener.cloud/v1beta1",
    kind: "Shoot",
    metadata: {
      name: shoot.shootName,
      namespace: `garden-${shoot.project}`,
      uid: `0b7c${shoot.namespace.length.toString(16).padStart(4, "0")}-1111-4222-8333-${Buffer.from(shoot.namespace).toString("hex").slice(0, 12).padEnd(12, "0")}`,
      resourceVersion: "7766554",
      generation: 57,
      creationTimestamp: "2025-06-12T08:00:00Z",
      annotations: {
        ...shoot.shootAnnotations,
        "cluster.metal-stack.io/name": shoot.shootName,
        "cluster.metal-stack.io/tenant": "example-tenant",
        "gardener.cloud/created-by": "someone@example.invalid",
        "shoot.gardener.cloud/tasks": "",
      },
      labels: { "shoot.gardener.cloud/status": "healthy", "extensions.extensions.gardener.cloud/ontap": "true", "provider.shoot.gardener.cloud/metal": "true" },
      finalizers: ["gardener"],
    },
    spec: {
      cloudProfile: { kind: "CloudProfile", name: "metal" },
      cloudProfileName: "metal",
      region: "fra",
      seedName: "metal-seed-1",
      purpose: "production",
      secretBindingName: "metal-credentials",
      extensions: [{ type: "ontap", providerConfig: { apiVersion: "ontap.metal.extensions.gardener.cloud/v1alpha1", kind: "TridentConfig" } }, { type: "shoot-dns-service" }, { type: "shoot-cert-service" }],
      hibernation: { enabled: false, schedules: [{ start: "00 20 * * 1,2,3,4,5", end: "00 07 * * 1,2,3,4,5", location: "Europe/Berlin" }] },
      kubernetes: {
        version: "1.31.4",
        kubeAPIServer: { enableAnonymousAuthentication: false, requests: { maxNonMutatingInflight: 400, maxMutatingInflight: 200 } },
        kubeControllerManager: { nodeCIDRMaskSize: 23 },
        kubelet: { failSwapOn: true, maxPods: 250 },
        kubeProxy: { mode: "IPTables", enabled: true },
      },
      maintenance: { autoUpdate: { kubernetesVersion: true, machineImageVersion: true }, timeWindow: { begin: "030000+0100", end: "040000+0100" } },
      networking: { type: "calico", nodes: "10.100.0.0/22", pods: "10.240.0.0/13", services: "10.248.0.0/18", ipFamilies: ["IPv4"] },
      provider: {
        type: "metal",
        controlPlaneConfig: { apiVersion: "metal.provider.extensions.gardener.cloud/v1alpha1", kind: "ControlPlaneConfig" },
        infrastructureConfig: {
          apiVersion: "metal.provider.extensions.gardener.cloud/v1alpha1",
          kind: "InfrastructureConfig",
          firewall: { size: "c1-large-x86", image: "firewall-ubuntu-3.0", networks: ["internet", "mpls"], controllerVersion: "auto" },
          partitionID: "fra-equ01",
          projectID: shoot.shootAnnotations[PROJECT_ANNOTATION] ?? "",
        },
        workers: [0, 1, 2].map((i) => ({
          name: `group-${i}`,
          machine: { type: "c1-xlarge-x86", image: { name: "ubuntu", version: "24.04" }, architecture: "amd64" },
          minimum: 2,
          maximum: 8,
          maxSurge: 1,
          maxUnavailable: 0,
          zones: ["fra-equ01"],
          cri: { name: "containerd" },
          systemComponents: { allow: true },
        })),
      },
    },
    status: {
      clusterIdentity: `${shoot.namespace}-garden`,
      conditions: ["APIServerAvailable", "ControlPlaneHealthy", "ObservabilityComponentsHealthy", "EveryNodeReady", "SystemComponentsHealthy"].map(condition),
      constraints: [condition("HibernationPossible"), condition("MaintenancePreconditionsSatisfied")],
      gardener: { id: "b2f6…", name: "gardenlet-7d9c8", version: "v1.110.0" },
      hibernated: false,
      lastOperation: { type: "Reconcile", state: "Succeeded", progress: 100, description: "Shoot cluster has been successfully reconciled.", lastUpdateTime: "2026-11-30T11:00:00Z" },
      observedGeneration: 57,
      seedName: "metal-seed-1",
      technicalID: shoot.namespace,
      uid: "0b7c0000-1111-4222-8333-444455556666",
    },
  };
}

/**
 * A Cluster as gardenlet writes it on a metal-stack seed: the whole CloudProfile, Seed and Shoot. Pass one
 * `cloudProfile` (and `seed`) for many Clusters: they are the same on a seed, and building them once keeps a
 * thousand-shoot setup cheap.
 */
export function realisticClusterObject(shoot: ShootIdentity, parts: { cloudProfile?: object; seed?: object } = {}) {
  return {
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Cluster",
    metadata: { name: shoot.namespace },
    spec: {
      cloudProfile: parts.cloudProfile ?? metalCloudProfile(),
      seed: parts.seed ?? metalSeed(),
      shoot: metalShoot(shoot),
    },
  };
}

/** The size of an object as JSON, in KiB (what the API server stores and sends for it, before managedFields). */
export function jsonKiB(obj: unknown): number {
  return Buffer.byteLength(JSON.stringify(obj)) / 1024;
}

/** The shape whose CloudProfile is about `kib` KiB: the default shape with its OS builds scaled. */
export function cloudProfileShapeOfKiB(kib: number): CloudProfileShape {
  const base = jsonKiB(metalCloudProfile({ ...METAL_CLOUD_PROFILE_SHAPE, buildsPerImage: 0 }));
  const perBuild = (jsonKiB(metalCloudProfile()) - base) / METAL_CLOUD_PROFILE_SHAPE.buildsPerImage;
  return { ...METAL_CLOUD_PROFILE_SHAPE, buildsPerImage: Math.max(0, Math.round((kib - base) / perBuild)) };
}
