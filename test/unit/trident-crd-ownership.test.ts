import { describe, expect, it } from "vitest";
import {
  MODE_ANNOTATION,
  renderReleasedTridentCrds,
  renderTridentCrds,
  renderTridentCrdsPlan,
  TRIDENT_CRD_NAMES,
  TRIDENT_OPERATOR_CRD_NAMES,
} from "../../src/trident/index.js";

/**
 * The CRDs this extension writes must never take from Trident what it stores or writes (issue 23: Trident 26.10
 * gives TridentNode a status subresource its controller writes). The kinds with a status subresource in Trident's
 * newest definitions (NetApp/trident master, cli/k8s_client/yaml_factory.go, the 26.10 line), of the ones this
 * extension ever renders: the operator's two it owns, and Trident's 15 it renders only to release them.
 */
const STATUS_IN_TRIDENT_26_10 = [
  "tridentbackendconfigs.trident.netapp.io",
  "tridentconfigurators.trident.netapp.io",
  "tridentmirrorrelationships.trident.netapp.io",
  "tridentnodes.trident.netapp.io",
  "tridentorchestrators.trident.netapp.io",
  "tridentsnapshotinfos.trident.netapp.io",
];

interface Crd {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { versions: { subresources?: { status?: object }; schema: { openAPIV3Schema: Record<string, unknown> } }[] };
}

describe("the CRDs this extension writes keep what Trident needs", () => {
  const every = [...renderTridentCrds(), ...renderReleasedTridentCrds(TRIDENT_CRD_NAMES)] as Crd[];

  it("keeps the status subresource of every kind Trident 26.10 writes status to", () => {
    for (const name of STATUS_IN_TRIDENT_26_10) {
      const crd = every.find((c) => c.metadata.name === name);
      expect(crd, name).toBeDefined();
      for (const version of crd!.spec.versions) expect(version.subresources?.status, name).toEqual({});
    }
  });

  it("prunes no field of any Trident version: every schema is open at its root", () => {
    for (const crd of every) {
      for (const version of crd.spec.versions) expect(version.schema.openAPIV3Schema["x-kubernetes-preserve-unknown-fields"], crd.metadata.name).toBe(true);
    }
  });

  it("applies only the operator's two; Trident's own are only ever handed back (mode Ignore: never applied)", () => {
    const plan = renderTridentCrdsPlan(TRIDENT_CRD_NAMES).objects as Crd[];
    const applied = plan.filter((c) => c.metadata.annotations?.[MODE_ANNOTATION] !== "Ignore").map((c) => c.metadata.name);
    expect(applied.sort()).toEqual([...TRIDENT_OPERATOR_CRD_NAMES].sort());
  });
});
