/**
 * The TridentOrchestrator's settings. Defaults are the Go extension's values at HEAD, so a takeover leaves
 * the operator nothing to change (a changed TridentOrchestrator makes the operator reinstall Trident's
 * controller and node pods). Each one can be overridden in the component configuration
 * (`tridentOrchestrator:`); `namespace` cannot: Trident lives in the shoot's kube-system.
 */
export interface TridentOrchestratorSettings {
  /** Detach volumes from a node that is gone (Kubernetes' non-graceful node shutdown); Go: true. */
  enableForceDetach: boolean;
  debug: boolean;
  IPv6: boolean;
  /** Seconds; 0 = Trident's default. */
  k8sTimeout: number;
  httpRequestTimeout: string;
  silenceAutosupport: boolean;
  autosupportInsecure: boolean;
  logFormat: "text" | "json";
  disableAuditLog: boolean;
  imagePullSecrets: string[];
  imagePullPolicy: "IfNotPresent" | "Always" | "Never";
  windows: boolean;
  enableACP: boolean;
  enableAutoBackendConfig: boolean;
  iscsiSelfHealingInterval: string;
  iscsiSelfHealingWaitTime: string;
}

export const GO_EXTENSION_ORCHESTRATOR_SETTINGS: Readonly<TridentOrchestratorSettings> = Object.freeze({
  enableForceDetach: true,
  debug: true,
  IPv6: false,
  k8sTimeout: 0,
  httpRequestTimeout: "90s",
  silenceAutosupport: false,
  autosupportInsecure: false,
  logFormat: "text",
  disableAuditLog: true,
  imagePullSecrets: [],
  imagePullPolicy: "IfNotPresent",
  windows: false,
  enableACP: false,
  enableAutoBackendConfig: true,
  iscsiSelfHealingInterval: "5m0s",
  iscsiSelfHealingWaitTime: "7m0s",
});

export function orchestratorSettings(overrides: Partial<TridentOrchestratorSettings> = {}): TridentOrchestratorSettings {
  return { ...GO_EXTENSION_ORCHESTRATOR_SETTINGS, imagePullSecrets: [], ...overrides };
}
