import { KubeConfig } from "@kubernetes/client-node";

/** The kubeconfig file given, else the library's default chain (in-cluster, $KUBECONFIG, ~/.kube/config). */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}
