import type { KubeClient } from "../kube/client.js";
import { Clusters, Extensions, Namespaces } from "../kube/resources.js";
import { clusterObject, gardenletRequest, PROJECT_ANNOTATION, shootNamespaceObject } from "../testenv/index.js";

/** The story's cast: three shoots in two projects, and the objects Gardener creates on the seed for each. */
export interface DemoShoot {
  project: string;
  projectId: string;
  shoot: string;
  namespace: string;
  managementLif: string;
  dataLifs: string[];
}

/** Shoots of one project share the project's SVM, so they carry the same SVM addresses. */
export const PROJECTS = [
  { project: "alpha", projectId: "0a1fa000-1111-4aaa-8aaa-00000000a1fa", shoots: ["web", "db"], net: "10.10.0" },
  { project: "beta", projectId: "0be7a000-2222-4bbb-8bbb-00000000be7a", shoots: ["api"], net: "10.20.0" },
];
export const DEMO_SHOOTS: DemoShoot[] = PROJECTS.flatMap((p) =>
  p.shoots.map((shoot) => ({
    project: p.project,
    projectId: p.projectId,
    shoot,
    namespace: `shoot--${p.project}--${shoot}`,
    managementLif: `${p.net}.10`,
    dataLifs: [`${p.net}.11`, `${p.net}.12`],
  })),
);
/** The shoot that meets the article's failure. */
export const FAILING_SHOOT = "shoot--beta--api";

/** What Gardener does for a shoot: its namespace, its Cluster, its Extension with the reconcile annotation. */
export async function createShoot(kube: KubeClient, s: DemoShoot): Promise<void> {
  await kube.create(Namespaces, shootNamespaceObject(s.namespace));
  await kube.create(
    Clusters,
    clusterObject({ namespace: s.namespace, shootName: s.shoot, project: s.project, shootAnnotations: { [PROJECT_ANNOTATION]: s.projectId } }),
  );
  await kube.create(Extensions, {
    apiVersion: "extensions.gardener.cloud/v1alpha1",
    kind: "Extension",
    metadata: { name: "ontap", namespace: s.namespace, annotations: gardenletRequest("reconcile") },
    spec: {
      type: "ontap",
      providerConfig: {
        apiVersion: "ontap.metal.extensions.gardener.cloud/v1alpha1",
        kind: "TridentConfig",
        svmIpaddresses: { managementLif: s.managementLif, dataLifs: s.dataLifs },
      },
    },
  });
}
