import { describe, expect, it } from "vitest";
import type { ComponentConfig } from "../../src/config/component-config.js";
import { extensionMatches, projectOfKey, svmOwnerGroup } from "../../src/process-assembly.js";
import type { Extension } from "../../src/extension/types.js";

const config = { extensionClass: "shoot" } as ComponentConfig;
const ext = (type: string, cls?: string): Extension => ({ metadata: { name: "x" }, spec: { type, ...(cls ? { class: cls } : {}) } });

describe("controller wiring", () => {
  it("watches only ontap Extensions of its class, an unset class counting as shoot", () => {
    const matches = extensionMatches(config);
    expect(matches(ext("ontap"))).toBe(true);
    expect(matches(ext("ontap", "shoot"))).toBe(true);
    expect(matches(ext("ontap", "seed"))).toBe(false);
    expect(matches(ext("registry-cache"))).toBe(false);
  });

  it("serializes Extensions by project: shoots of one project share a group, others do not", () => {
    expect(projectOfKey("shoot--alpha--web/ontap")).toBe("alpha");
    expect(projectOfKey("shoot--alpha--db/ontap")).toBe("alpha");
    expect(projectOfKey("shoot--alpha-two--db/ontap")).toBe("alpha-two");
    expect(projectOfKey("shoot--beta--web/ontap")).not.toBe(projectOfKey("shoot--alpha--web/ontap"));
  });

  it("serializes on what owns the SVM: the metal-stack project annotation, across Gardener projects", () => {
    const clusters: Record<string, string | undefined> = {
      "shoot--alpha--web": "0a1b-metal",
      "shoot--beta--db": "0a1b-metal",
      "shoot--alpha--api": "9f9f-other",
    };
    const clusterOf = (ns: string) => {
      const id = clusters[ns];
      return id ? ({ metadata: { name: ns }, spec: { shoot: { metadata: { annotations: { "cluster.metal-stack.io/project": id } } } } } as never) : undefined;
    };
    expect(svmOwnerGroup("shoot--alpha--web/ontap", clusterOf)).toBe(svmOwnerGroup("shoot--beta--db/ontap", clusterOf));
    expect(svmOwnerGroup("shoot--alpha--web/ontap", clusterOf)).not.toBe(svmOwnerGroup("shoot--alpha--api/ontap", clusterOf));
    // Keyed on the SVM: ids that differ only in dashes name one SVM, so they are one group.
    clusters["shoot--delta--a"] = "0a1b2c3d-aaaa-4bbb-8ccc-1234567890ab";
    clusters["shoot--delta--b"] = "0a1b2c3daaaa-4bbb-8ccc-1234567890ab";
    expect(svmOwnerGroup("shoot--delta--a/ontap", clusterOf)).toBe(svmOwnerGroup("shoot--delta--b/ontap", clusterOf));
    // No cached Cluster yet: the Gardener project stands in.
    expect(svmOwnerGroup("shoot--gamma--x/ontap", clusterOf)).toBe("gardener:gamma");
  });
});
