/** What the renderers need to know about one shoot; everything else is derived from it. */
export interface TridentFacts {
  /** ONTAP SVM of the shoot's project (`p` + project id without dashes). */
  svmName: string;
  /** IP of the SVM's management LIF. */
  managementLif: string;
  /** IPs of the SVM's NVMe/TCP data LIFs. */
  dataLifs: string[];
  /** The shoot's SVM-scoped ONTAP user. */
  username: string;
  password: string;
  /** Whether the shoot has the `firewall` namespace (metal-stack firewall-controller); decides `trident-cwnp`. */
  firewallNamespaceExists: boolean;
  /** Defaults to DEFAULT_TRIDENT_OPERATOR_IMAGE. */
  operatorImage?: string;
}

/** The content of one ManagedResource before it is serialized into its Secret. */
export interface ManagedResourcePlan {
  name: string;
  keepObjects: boolean;
  objects: object[];
}

export type TridentErrorCode = "ERR_CONFIGURATION_PROBLEM";

/** Invalid input to a renderer. Never transient: rendering the same input again fails the same way. */
export class TridentRenderError extends Error {
  readonly code: TridentErrorCode;
  readonly transient = false;

  constructor(message: string, code: TridentErrorCode = "ERR_CONFIGURATION_PROBLEM", options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TridentRenderError";
    this.code = code;
  }
}
