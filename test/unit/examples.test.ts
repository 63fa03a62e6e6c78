import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";

/**
 * The examples work on Gardener's floor (v1.138.3, metal-stack's release vector) and its newest release
 * (v1.149.3). The operator Extension is checked against each release's CRD schema as kube-apiserver would
 * prune it (a field the schema does not know is dropped there, silently: here it is named); the
 * ControllerDeployment, served by gardener-apiserver and not a CRD, against the fields of v1.138.3's
 * `core.gardener.cloud/v1` types (pkg/apis/core/v1/types_controllerdeployment.go at the tag).
 */
const ROOT = path.resolve(import.meta.dirname, "..", "..");
const FLOOR = path.join(ROOT, "hack", "crds", "gardener-floor");

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  required?: string[];
}

/** Fields of `value` the structural schema does not know (kube-apiserver prunes them), and missing required ones. */
function unknownFields(value: unknown, schema: Schema, at = ""): string[] {
  if (schema["x-kubernetes-preserve-unknown-fields"] && !schema.properties) return [];
  if (Array.isArray(value)) return schema.items ? value.flatMap((v, i) => unknownFields(v, schema.items!, `${at}[${i}]`)) : [];
  if (typeof value !== "object" || value === null) return [];
  const problems: string[] = [];
  for (const key of schema.required ?? []) if (!(key in value)) problems.push(`${at}.${key} (required)`);
  for (const [key, v] of Object.entries(value)) {
    const sub = schema.properties?.[key] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
    if (sub) problems.push(...unknownFields(v, sub, `${at}.${key}`));
    else if (!schema["x-kubernetes-preserve-unknown-fields"] && schema.additionalProperties !== true) problems.push(`${at}.${key}`);
  }
  return problems;
}

function operatorExtensionSchema(version: string): Schema {
  const crd = parse(readFileSync(path.join(FLOOR, `10-crd-operator.gardener.cloud_extensions.${version}.yaml`), "utf8"));
  const schema = crd.spec.versions.find((v: { name: string }) => v.name === "v1alpha1").schema.openAPIV3Schema as Schema;
  // metadata is the API server's, not the CRD's.
  return { ...schema, properties: { ...schema.properties, metadata: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } };
}

/** v1.138.3 core.gardener.cloud/v1 ControllerDeployment: its fields, by their json tags. */
const CONTROLLER_DEPLOYMENT_V1_138: Schema = {
  properties: {
    apiVersion: {},
    kind: {},
    metadata: { "x-kubernetes-preserve-unknown-fields": true },
    helm: {
      properties: {
        rawChart: {},
        values: { "x-kubernetes-preserve-unknown-fields": true },
        ociRepository: { properties: { ref: {}, repository: {}, tag: {}, digest: {}, pullSecretRef: { properties: { name: {} } }, caBundleSecretRef: { properties: { name: {} } } } },
      },
    },
    injectGardenKubeconfig: {},
  },
};

const docs = (file: string) => parseAllDocuments(readFileSync(path.join(ROOT, "example", file), "utf8")).map((d) => d.toJS());

describe("the examples on Gardener v1.138.3 and v1.149.3", () => {
  for (const version of ["v1.138.3", "v1.149.3"]) {
    it(`example/operator-extension.yaml uses only fields of the operator Extension CRD of ${version}`, () => {
      const [extension] = docs("operator-extension.yaml");
      expect(unknownFields(extension, operatorExtensionSchema(version))).toEqual([]);
    });
  }

  it("catches a field the floor does not have: deployment.resources (v1.147+) is unknown to v1.138.3, known to v1.149.3", () => {
    const [extension] = docs("operator-extension.yaml");
    const withResources = structuredClone(extension);
    withResources.spec.deployment.resources = [{ name: "ontapA", resourceRef: { apiVersion: "v1", kind: "Secret", name: "ontap-a" } }];
    expect(unknownFields(withResources, operatorExtensionSchema("v1.138.3"))).toEqual([".spec.deployment.resources"]);
    expect(unknownFields(withResources, operatorExtensionSchema("v1.149.3"))).toEqual([]);
  });

  it("example/controller-registration.yaml: the ControllerDeployment uses only fields of v1.138.3", () => {
    const [deployment] = docs("controller-registration.yaml");
    expect(deployment.kind).toBe("ControllerDeployment");
    expect(unknownFields(deployment, CONTROLLER_DEPLOYMENT_V1_138)).toEqual([]);
    expect(unknownFields({ ...deployment, resources: [] }, CONTROLLER_DEPLOYMENT_V1_138)).toEqual([".resources"]);
  });

  it("the values are metal-roles' shape: image {repository, tag, pullPolicy} and Go entries in config.clusters", () => {
    const [extension] = docs("operator-extension.yaml");
    const values = extension.spec.deployment.extension.values;
    expect(Object.keys(values).sort()).toEqual(["config", "image"]);
    expect(Object.keys(values.image).sort()).toEqual(["pullPolicy", "repository", "tag"]);
    for (const c of values.config.clusters) expect(Object.keys(c)).toEqual(expect.arrayContaining(["name", "ipaddress", "username", "password"]));
  });
});
