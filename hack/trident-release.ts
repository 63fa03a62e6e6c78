/**
 * What hack/trident-e2e.ts takes from the source tree of the Trident release it runs (laid out outside this
 * repository, next to the binary built from it): the CRDs that release's installer creates in a cluster, and
 * the CSI spec version it was built against. Each release adds CRDs (25.10: node remediation, 26.02: autogrow
 * requests, 26.06: volume moves) and its controller watches all of them, so the shoot gets the release's own set
 * rather than the extension's rendering of one release.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse as parseYaml } from "yaml";

export interface TridentRelease {
  /** The CustomResourceDefinitions of cli/k8s_client/yaml_factory.go, as the installer applies them. */
  crds: Array<{ kind: string; metadata: { name: string } }>;
  /** github.com/container-storage-interface/spec's version in the release's go.mod (where csi.proto comes from). */
  csiSpecVersion: string;
}

/** Go raw-string constants that hold a CRD: `const tridentBackendCRDYAMLv1 = \`...\``. */
const CRD_CONSTANT = /^const \w+CRDYAMLv1 = `([^`]*)`/gm;

export function readTridentRelease(sourceDir: string): TridentRelease {
  const factory = path.join(sourceDir, "cli", "k8s_client", "yaml_factory.go");
  const goMod = path.join(sourceDir, "go.mod");
  if (!existsSync(factory) || !existsSync(goMod)) {
    throw new Error(`${sourceDir} is not a Trident source tree (no cli/k8s_client/yaml_factory.go or go.mod): set TRIDENT_SRC to the release's source`);
  }
  const crds = [...readFileSync(factory, "utf8").matchAll(CRD_CONSTANT)]
    .map((m) => parseYaml(m[1]!) as { kind: string; metadata: { name: string } })
    .filter((doc) => doc?.kind === "CustomResourceDefinition");
  if (crds.length === 0) throw new Error(`${factory}: no CRD constants found (has the release moved them?)`);
  const csi = readFileSync(goMod, "utf8").match(/github\.com\/container-storage-interface\/spec (v[0-9.]+)/);
  if (!csi) throw new Error(`${goMod}: no github.com/container-storage-interface/spec requirement`);
  return { crds, csiSpecVersion: csi[1]! };
}
