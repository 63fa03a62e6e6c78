import { readFileSync } from "node:fs";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigError, loadComponentConfig, loadImageVector } from "../../src/config/component-config.js";
import {
  builtInImage,
  findImage,
  ImageVectorError,
  mergeImageVectors,
  parseImageVector,
  satisfies,
  selectTrident,
  TridentRenderError,
  tridentReleaseOf,
} from "../../src/trident/index.js";
import { parseVersion } from "../../src/trident/version-constraint.js";

const shipped = loadImageVector("");
const v = (text: string) => parseVersion(text)!;

describe("version constraints as image vectors write them", () => {
  it("reads ranges, partial versions, wildcards and alternatives as Masterminds/semver does", () => {
    expect(satisfies(v("1.33.9"), "< 1.34")).toBe(true);
    expect(satisfies(v("1.34.0"), "< 1.34")).toBe(false);
    expect(satisfies(v("1.34.5"), ">= 1.34, < 1.35")).toBe(true);
    expect(satisfies(v("1.35.0"), ">= 1.34, < 1.35")).toBe(false);
    expect(satisfies(v("1.34.7"), "1.34.x")).toBe(true);
    expect(satisfies(v("1.35.0"), "1.34.x")).toBe(false);
    expect(satisfies(v("1.35.1"), "> 1.34")).toBe(true);
    expect(satisfies(v("1.34.9"), "> 1.34")).toBe(false);
    expect(satisfies(v("1.34.9"), "<= 1.34")).toBe(true);
    expect(satisfies(v("1.36.2"), "~1.36.1")).toBe(true);
    expect(satisfies(v("1.33.0"), "1.31.x || >= 1.33")).toBe(true);
    expect(satisfies(v("1.32.0"), "1.31.x || >= 1.33")).toBe(false);
  });
});

describe("the image vector (charts/images.yaml) and its overwrite", () => {
  it("gives each Kubernetes minor the lowest Trident that supports it (KubernetesVersionMax of each tag)", () => {
    const operator = (k8s: string) => findImage(shipped, "trident-operator", k8s)?.image;
    expect(operator("1.30.4")).toBe("docker.io/netapp/trident-operator:25.06.3");
    expect(operator("1.33.8")).toBe("docker.io/netapp/trident-operator:25.06.3");
    expect(operator("1.34.0")).toBe("docker.io/netapp/trident-operator:25.10.0");
    expect(operator("1.35.2")).toBe("docker.io/netapp/trident-operator:26.02.1");
    expect(operator("1.36.1")).toBe("docker.io/netapp/trident-operator:26.06.0");
    expect(operator("1.37.0")).toBeUndefined();
  });

  it("lists, for every release, exactly the images its operator uses by itself", () => {
    for (const k8s of ["1.33.0", "1.34.0", "1.35.0", "1.36.0"]) {
      const selection = selectTrident({ vector: shipped, kubernetesVersion: k8s });
      expect(selection.operatorEnv, k8s).toEqual([]);
      expect(selection.images["trident"]).toBe(builtInImage(selection.release, "trident"));
    }
    expect(findImage(shipped, "nvme-tcp-init", "1.35.0")?.image).toBe("busybox:1.36");
  });

  it("merges an overwrite by Gardener's rules: same name and targetVersion replaces, anything else is added", () => {
    const overwrite = parseImageVector(
      `images:
- name: trident
  repository: mirror.example/netapp/trident
  targetVersion: ">= 1.34, < 1.35"
- name: csi-provisioner
  repository: mirror.example/sig-storage/csi-provisioner
  tag: v5.3.1
  targetVersion: "1.34.2"
`,
      "overwrite",
    );
    const merged = mergeImageVectors(shipped, overwrite);
    // Same key: the repository replaced, the tag kept.
    expect(findImage(merged, "trident", "1.34.2")?.image).toBe("mirror.example/netapp/trident:25.10.0");
    expect(merged.length).toBe(shipped.length + 1);
    // A new entry with an exact version wins over the shipped range there (Gardener's score), and only there.
    expect(findImage(merged, "csi-provisioner", "1.34.2")?.image).toBe("mirror.example/sig-storage/csi-provisioner:v5.3.1");
    expect(findImage(merged, "csi-provisioner", "1.34.3")?.image).toBe("registry.k8s.io/sig-storage/csi-provisioner:v5.3.0");
    expect(findImage(merged, "csi-provisioner", "1.35.0")?.image).toBe("registry.k8s.io/sig-storage/csi-provisioner:v6.2.0");
  });

  it("refuses a bad overwrite naming the value, the entry and the field", () => {
    const bad = `images:
- name: trident-operator
  repository: mirror.example/trident-operator
  tag: ""
  targetVersion: ">= one.34"
- repository: x
`;
    const read = (path: string | URL) => (String(path).endsWith("overwrite.yaml") ? bad : readShipped(path));
    let error: unknown;
    try {
      loadImageVector("/etc/overwrite.yaml", read);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain("imageVectorOverwrite (/etc/overwrite.yaml)");
    expect(message).toContain("images[0].tag: must not be empty");
    expect(message).toMatch(/images\[0\]\.targetVersion: .*not a version/);
    expect(message).toContain("images[1].name: is required");
    expect(() => loadImageVector("/missing.yaml", (p) => (String(p) === "/missing.yaml" ? missing() : readShipped(p)))).toThrow(
      /imageVectorOverwrite: cannot read \/missing\.yaml \(IMAGEVECTOR_OVERWRITE; ENOENT\)/,
    );
    expect(() => parseImageVector("images: {a: 1}", "overwrite")).toThrow(ImageVectorError);
  });
});

describe("the controller's start reads the overwrite IMAGEVECTOR_OVERWRITE names", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("merges it into the configuration's image vector, and refuses a bad one naming the field", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "imagevector-"));
    const config = path.join(dir, "config.yaml");
    writeFileSync(config, "clusters: [{name: a, ipaddress: 10.0.0.10, username: admin, password: pw}]\n");
    const overwrite = path.join(dir, "images_overwrite.yaml");
    writeFileSync(overwrite, `images: [{name: trident-operator, repository: mirror.example/trident-operator, targetVersion: "< 1.34"}]\n`);
    vi.stubEnv("IMAGEVECTOR_OVERWRITE", overwrite);
    const loaded = loadComponentConfig(config);
    expect(selectTrident({ vector: loaded.imageVector!, kubernetesVersion: "1.33.1" }).operatorImage).toBe("mirror.example/trident-operator:25.06.3");
    writeFileSync(overwrite, `images: [{name: trident-operator, repository: "", targetVersion: "< 1.34"}]\n`);
    expect(() => loadComponentConfig(config)).toThrow(/imageVectorOverwrite \(.*images_overwrite\.yaml\): images\[0\]\.repository: must not be empty/);
  });
});

describe("the Trident release of a shoot", () => {
  it("moves a shoot only when its Kubernetes outgrows the Trident it runs, never down", () => {
    expect(selectTrident({ vector: shipped, kubernetesVersion: "1.33.4" }).release.version).toBe("25.06.3");
    // A Go-extension shoot (25.06.3) upgraded to 1.34: its Trident goes to 25.10.0.
    expect(selectTrident({ vector: shipped, kubernetesVersion: "1.34.1", runningVersion: "25.06.3" }).release.version).toBe("25.10.0");
    // 26.02.1 runs on a 1.34 shoot: kept, with 26.02's images, not downgraded to 25.10.
    const kept = selectTrident({ vector: shipped, kubernetesVersion: "1.34.1", runningVersion: "26.02.1" });
    expect(kept.reason).toBe("kept");
    expect(kept.images["csi-provisioner"]).toBe("registry.k8s.io/sig-storage/csi-provisioner:v6.2.0");
    expect(kept.operatorEnv).toEqual([]);
    // Without a Kubernetes version (a Cluster that does not say) the recorded release, else the default.
    expect(selectTrident({ vector: shipped }).release.version).toBe("25.06.3");
    expect(selectTrident({ vector: shipped, runningVersion: "26.06.0" }).release.version).toBe("26.06.0");
  });

  it("says so instead of downgrading, or deploying a Trident that refuses the shoot's Kubernetes", () => {
    expect(() => selectTrident({ vector: shipped, kubernetesVersion: "1.37.0" })).toThrow(/no trident-operator for Kubernetes 1\.37\.0/);
    expect(() => selectTrident({ vector: shipped, kubernetesVersion: "1.34.0", runningVersion: "26.10.0" })).toThrow(
      /Trident 26\.10\.0 runs in this shoot .* never downgraded/,
    );
    expect(() =>
      selectTrident({ vector: shipped, kubernetesVersion: "1.35.0", configuredOperatorImage: "docker.io/netapp/trident-operator:25.10.0" }),
    ).toThrow(/tridentOperatorImage is Trident 25\.10\.0, which supports Kubernetes up to 1\.34/);
    expect(() =>
      selectTrident({ vector: shipped, kubernetesVersion: "1.33.0", runningVersion: "26.02.1", configuredOperatorImage: "docker.io/netapp/trident-operator:25.10.0" }),
    ).toThrow(TridentRenderError);
  });

  it("takes the next release line from an overwrite, with every image of it redirected, without a code change", () => {
    const overwrite = parseImageVector(
      ["trident-operator:26.10.0", "trident:26.10.0", "trident-autosupport:26.10"]
        .map((image) => {
          const [name, tag] = image.split(":");
          return `- {name: ${name}, repository: mirror.example/netapp/${name}, tag: "${tag}", targetVersion: ">= 1.37, < 1.38"}`;
        })
        .concat(
          ["csi-provisioner", "csi-attacher", "csi-resizer", "csi-snapshotter", "csi-node-driver-registrar", "csi-livenessprobe"].map(
            (name) => `- {name: ${name}, repository: mirror.example/sig-storage/${name}, tag: v9.9.9, targetVersion: ">= 1.37, < 1.38"}`,
          ),
        )
        .join("\n")
        .replace(/^/, "images:\n"),
      "overwrite",
    );
    const selection = selectTrident({ vector: mergeImageVectors(shipped, overwrite), kubernetesVersion: "1.37.2" });
    expect(selection.release).toMatchObject({ version: "26.10.0", shape: "26.06" });
    expect(selection.operatorImage).toBe("mirror.example/netapp/trident-operator:26.10.0");
    // Unknown line: the operator's own images are not known, so every one is told.
    expect(selection.operatorEnv.map((e) => e.name)).toHaveLength(8);
    expect(selection.operatorEnv).toContainEqual({ name: "TRIDENT_CSI_SIDECAR_LIVENESS_PROBE_IMAGE", value: "mirror.example/sig-storage/csi-livenessprobe:v9.9.9" });
    expect(tridentReleaseOf(selection.operatorImage).shape).toBe("26.06");
  });

  it("follows an overwrite's tag, not the version Gardener's merge keeps from the replaced entry", () => {
    const overwrite = parseImageVector(`images:\n- {name: trident-operator, repository: docker.io/netapp/trident-operator, tag: "25.06.4", targetVersion: "< 1.34"}\n`, "o");
    const merged = mergeImageVectors(shipped, overwrite);
    expect(merged.find((i) => i.name === "trident-operator")).toMatchObject({ tag: "25.06.4", version: "25.06.3" });
    expect(selectTrident({ vector: merged, kubernetesVersion: "1.33.0" }).release.version).toBe("25.06.4");
  });

  it("upgrades at most four releases at once, as Trident does", () => {
    // 25.06 -> 26.06 is three releases (25.10, 26.02, 26.06): one step.
    expect(selectTrident({ vector: shipped, kubernetesVersion: "1.36.0", runningVersion: "25.06.3" }).release.version).toBe("26.06.0");
    const next = parseImageVector(`images:\n- {name: trident-operator, repository: r/trident-operator, tag: "27.02.0", targetVersion: ">= 1.37"}\n`, "o");
    // 25.06 -> 27.02 is five.
    expect(() => selectTrident({ vector: mergeImageVectors(shipped, next), kubernetesVersion: "1.37.0", runningVersion: "25.06.3" })).toThrow(
      /27\.02\.0, more than 4 releases after the 25\.06\.3 this shoot runs/,
    );
  });

  it("refuses a Trident image of another release than the operator's (the operator would refuse it)", () => {
    const overwrite = parseImageVector(`images:\n- {name: trident, repository: docker.io/netapp/trident, tag: "26.02.1", targetVersion: "< 1.34"}\n`, "o");
    expect(() => selectTrident({ vector: mergeImageVectors(shipped, overwrite), kubernetesVersion: "1.33.0" })).toThrow(
      /entry trident "docker.io\/netapp\/trident:26.02.1" is not of Trident 25\.06/,
    );
  });
});

function readShipped(path: string | URL): string {
  return readFileSync(path, "utf8");
}

function missing(): never {
  throw Object.assign(new Error("no such file"), { code: "ENOENT" });
}
