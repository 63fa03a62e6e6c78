export { KubeConfig, KubeConfigError, type KubeConnectionConfig, loadKubeConfig } from "./kubeconfig.js";
