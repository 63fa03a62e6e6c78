import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadImageVector, parseComponentConfig } from "../../src/config/component-config.js";
import { selectTrident } from "../../src/trident/index.js";
import { COMPONENT_SECRET_NAMES, SHOOT_COMPONENTS } from "../../src/ontap-extension/components.js";
import { SECRET_NAME } from "../../src/ontap-extension/plan.js";
import { SHOOT_HEALTH_ACCESS_SECRET } from "../../src/trident/names.js";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";
import { stringify } from "yaml";
import {
  CHART_DIR,
  chartTools,
  findObject,
  helm,
  metalRolesValues,
  packagedChart,
  passwordsOutsideSecrets,
  REPO_ROOT,
  type RenderedObject,
  renderChart,
  writeValues,
} from "../support/chart.js";

/**
 * The chart through real helm (built from its Go module by hack/build-chart-tools.sh): lint and template with
 * the default values and with a values file that sets everything, and the Gardener conventions a seed needs.
 */
const dir = mkdtempSync(path.join(tmpdir(), "chart-test-"));
const namespace = "extension-ontap-5f8c2";

const FULL_VALUES = {
  image: { repository: "registry.example/ontap", tag: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
  replicaCount: 3,
  resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "768Mi" } },
  controller: { maxConcurrentReconciles: 8, healthPort: 8082, logLevel: "debug", shutdownTimeoutSeconds: 40, terminationGracePeriodSeconds: 90 },
  leaderElection: { id: "extension-ontap-leader-election", namespace: "" },
  heartbeat: { renewIntervalSeconds: 30 },
  webhook: { enabled: true, servicePort: 8443, serverPort: 10251, maxConcurrentReviews: 8 },
  metrics: { enableScraping: true },
  config: {
    extensionClass: "shoot",
    svmDeletionPolicy: "Retain",
    escalation: { consecutiveFailures: 3, afterMinutes: 10 },
    clusterwideNetworkPolicy: false,
    tridentOperatorImage: "docker.io/netapp/trident-operator:25.06.3",
    requeue: { baseSeconds: 1, capSeconds: 120 },
    ontapRequests: { maxConcurrentPerCluster: 4, circuitBreaker: { consecutiveFailures: 3, probeIntervalSeconds: 2 } },
    clusters: [
      { name: "metro-a", url: "https://10.0.0.10", username: "admin", password: "s3cr3t-a", ca: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", timeoutSeconds: 20 },
      { name: "metro-b", url: "https://10.0.0.20", credentialsSecret: "ontap-admin-metro-b", caSecret: "ontap-ca-metro-b" },
    ],
  },
  gardener: { version: "v1.149.3", seed: { name: "seed-1" } },
};

describe("the Helm chart, rendered by real helm", () => {
  it("passes helm lint with the default values and with a full values file", async () => {
    const lintDefault = await helm(["lint", CHART_DIR, "--strict"]);
    expect(lintDefault.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
    const full = writeValues(dir, "full.yaml", FULL_VALUES);
    const lintFull = await helm(["lint", CHART_DIR, "--strict", "--values", full]);
    expect(lintFull.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
  });

  it("ships as metal-stack's charts do: helm package, chart version = app version, the archive is what the tests render", async () => {
    const chart = parse(readFileSync(path.join(CHART_DIR, "Chart.yaml"), "utf8")) as { name: string; version: string; appVersion: string };
    expect(chart.version).toBe(chart.appVersion);
    const archive = await packagedChart();
    expect(path.basename(archive)).toBe(`${chart.name}-${chart.version}.tgz`);
    // The image the chart deploys by default is the release the chart is.
    const values = parse(readFileSync(path.join(CHART_DIR, "values.yaml"), "utf8")) as { image: { tag: string } };
    expect(values.image.tag).toBe(chart.appVersion);
    const shown = await helm(["show", "chart", archive]);
    expect(parse(shown.stdout)).toMatchObject({ name: chart.name, version: chart.version, appVersion: chart.appVersion });
  });

  it("grants kube-system's Secrets only while takeover.goSecrets.enabled, and only the names takeover.goSecrets.names lists", async () => {
    const role = (objects: Awaited<ReturnType<typeof renderChart>>) => objects.find((o) => o.kind === "Role" && o.metadata.namespace === "kube-system");
    const off = await renderChart({ namespace, valuesFiles: [writeValues(dir, "takeover-off.yaml", { takeover: { goSecrets: { enabled: false } } })] });
    expect(off.filter((o) => o.metadata.namespace === "kube-system")).toEqual([]);
    const names = ["pabc-garden1--db-credentials", "pabc-garden2--db-credentials"];
    const named = await renderChart({ namespace, valuesFiles: [writeValues(dir, "takeover-named.yaml", { takeover: { goSecrets: { enabled: true, names } } })] });
    expect(role(named)?.rules).toEqual([{ apiGroups: [""], resources: ["secrets"], resourceNames: names, verbs: ["get", "delete"] }]);
    expect(role(await renderChart({ namespace }))?.rules).toEqual([{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "delete"] }]);
  });

  it("renders the default values: Gardener's labels, priority, PDB, probes and a config the controller can read", async () => {
    const objects = await renderChart({ namespace });
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        "ClusterRole/gardener-extension-extension-ontap",
        "ClusterRoleBinding/gardener-extension-extension-ontap",
        "ConfigMap/gardener-extension-extension-ontap-config",
        "ConfigMap/gardener-extension-extension-ontap-dashboard",
        "PrometheusRule/gardener-extension-extension-ontap",
        "Deployment/gardener-extension-extension-ontap",
        "PodDisruptionBudget/gardener-extension-extension-ontap",
        "Role/gardener-extension-extension-ontap",
        "Role/gardener-extension-extension-ontap-go-extension-secrets",
        "Role/gardener-extension-extension-ontap-leader-election",
        "RoleBinding/gardener-extension-extension-ontap",
        "RoleBinding/gardener-extension-extension-ontap-leader-election",
        "RoleBinding/gardener-extension-extension-ontap-go-extension-secrets",
        "Service/gardener-extension-extension-ontap",
        "ServiceAccount/gardener-extension-extension-ontap",
      ].sort(),
    );
    const deployment = findObject(objects, "Deployment");
    const pod = deployment.spec.template;
    expect(pod.metadata.labels).toMatchObject({
      "networking.gardener.cloud/to-runtime-apiserver": "allowed",
      "networking.gardener.cloud/to-dns": "allowed",
      "networking.gardener.cloud/to-private-networks": "allowed",
      "networking.gardener.cloud/to-public-networks": "allowed",
      "networking.resources.gardener.cloud/to-all-shoots-kube-apiserver-tcp-443": "allowed",
    });
    // The label gardener-resource-manager's NetworkPolicy controller derives from the Service (its name and the
    // webhook port's target port, by name when named), so the pod's health check reaches its own webhook.
    const service = findObject(objects, "Service");
    const webhookPort = service.spec.ports.find((p: { name: string }) => p.name === "webhook");
    expect(pod.metadata.labels[`networking.resources.gardener.cloud/to-${service.metadata.name}-tcp-${webhookPort.targetPort}`]).toBe("allowed");
    expect(pod.spec.containers[0].ports.map((p: { name: string }) => p.name)).toContain(webhookPort.targetPort);
    expect(pod.metadata.annotations).toMatchObject({ "prometheus.io/scrape": "true", "prometheus.io/port": "8081" });
    expect(pod.spec.priorityClassName).toBe("gardener-system-900");
    expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(30);
    const container = pod.spec.containers[0];
    expect(container.args).toContain(`--leader-election-namespace=${namespace}`);
    expect(container.args).toContain("--leader-election-id=extension-ontap-leader-election");
    expect(container.args).toContain(`--heartbeat-namespace=${namespace}`);
    expect(container.args).toContain("--heartbeat-renew-interval-seconds=30");
    expect(container.env).toContainEqual({ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } });
    expect(container.env).toContainEqual({ name: "LEADER_ELECTION_NAMESPACE", value: namespace });
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");

    const pdb = findObject(objects, "PodDisruptionBudget");
    expect(pdb.spec.unhealthyPodEvictionPolicy).toBe("AlwaysAllow");
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);

    expect(service.metadata.annotations).toMatchObject({
      "networking.resources.gardener.cloud/from-all-webhook-targets-allowed-ports": '[{"protocol":"TCP","port":10250}]',
      "networking.resources.gardener.cloud/from-all-seed-scrape-targets-allowed-ports": '[{"protocol":"TCP","port":8081}]',
      "networking.resources.gardener.cloud/pod-label-selector-namespace-alias": "extensions",
    });
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);

    const config = parse(findObject(objects, "ConfigMap").data["config.yaml"]);
    expect(config).toMatchObject({ kind: "ControllerConfiguration", clusters: [], extensionClass: "shoot" });
    // The per-cluster cap and breaker, as the controller's own defaults.
    expect(config.ontapRequests).toEqual({ maxConcurrentPerCluster: 8, circuitBreaker: { consecutiveFailures: 5, probeIntervalSeconds: 1 } });
  });

  it("renders a full values file: credentials Secrets, mounts with mode 0400, the webhook, and a checksum that follows the config", async () => {
    const full = writeValues(dir, "full.yaml", FULL_VALUES);
    const objects = await renderChart({ namespace, valuesFiles: [full] });
    const deployment = findObject(objects, "Deployment");
    expect(deployment.spec.replicas).toBe(3);
    const pod = deployment.spec.template.spec;
    expect(deployment.spec.template.spec.containers[0].image).toBe(`registry.example/ontap@${FULL_VALUES.image.tag}`);
    expect(pod.terminationGracePeriodSeconds).toBe(90);

    // metro-a's credentials and CA come from the values: the chart creates one Secret for them.
    const created = findObject(objects, "Secret", "gardener-extension-extension-ontap-ontap-metro-a");
    expect(Buffer.from(created.data.username, "base64").toString()).toBe("admin");
    expect(Buffer.from(created.data.password, "base64").toString()).toBe("s3cr3t-a");
    expect(Buffer.from(created.data["ca.crt"], "base64").toString()).toContain("BEGIN CERTIFICATE");
    // metro-b's come from existing Secrets: the chart creates none for it.
    expect(objects.filter((o) => o.kind === "Secret").map((o) => o.metadata.name)).toEqual(["gardener-extension-extension-ontap-ontap-metro-a"]);

    const secretVolumes = pod.volumes.filter((v: { secret?: unknown }) => v.secret);
    expect(secretVolumes.map((v: { secret: { secretName: string } }) => v.secret.secretName).sort()).toEqual(
      ["gardener-extension-extension-ontap-ontap-metro-a", "gardener-extension-extension-ontap-ontap-metro-a", "ontap-admin-metro-b", "ontap-ca-metro-b"].sort(),
    );
    for (const v of secretVolumes) expect(v.secret.defaultMode, v.name).toBe(0o400);

    const config = parse(findObject(objects, "ConfigMap").data["config.yaml"]);
    expect(JSON.stringify(config)).not.toContain("s3cr3t-a");
    expect(config.clusters).toEqual([
      {
        name: "metro-a",
        url: "https://10.0.0.10",
        caFile: "/etc/gardener-extension-ontap/ca/metro-a/ca.crt",
        usernameFile: "/etc/gardener-extension-ontap/credentials/metro-a/username",
        passwordFile: "/etc/gardener-extension-ontap/credentials/metro-a/password",
        timeoutSeconds: 20,
      },
      {
        name: "metro-b",
        url: "https://10.0.0.20",
        caFile: "/etc/gardener-extension-ontap/ca/metro-b/ca.crt",
        usernameFile: "/etc/gardener-extension-ontap/credentials/metro-b/username",
        passwordFile: "/etc/gardener-extension-ontap/credentials/metro-b/password",
      },
    ]);
    // The webhook URL is the controller's to build at run time, from the Service and POD_NAMESPACE.
    expect(config.shootWebhook).toBeUndefined();
    expect(deployment.spec.template.spec.containers[0].args).toEqual(
      expect.arrayContaining(["--webhook-port=10251", "--webhook-service-name=gardener-extension-extension-ontap", "--webhook-service-port=8443", "--webhook-max-concurrent-reviews=8"]),
    );
    const service = findObject(objects, "Service");
    expect(service.spec.ports).toContainEqual({ name: "webhook", port: 8443, targetPort: "webhook", protocol: "TCP" });
    expect(service.metadata.annotations?.["networking.resources.gardener.cloud/from-all-webhook-targets-allowed-ports"]).toBe('[{"protocol":"TCP","port":10251}]');
    expect(config).toMatchObject({ svmDeletionPolicy: "Retain", clusterwideNetworkPolicy: false, requeue: { baseSeconds: 1, capSeconds: 120 } });
    // The controller reads the cap and the breaker as given (the mounted files stand in for the Secrets).
    const read = parseComponentConfig(findObject(objects, "ConfigMap").data["config.yaml"], "config.yaml", () => "from-a-mounted-file");
    expect(read.ontapRequests).toEqual({ maxConcurrentPerCluster: 4, circuitBreaker: { consecutiveFailures: 3, probeIntervalMs: 2000 } });

    // Changing the configuration changes the pod template, so the pods roll.
    const changed = writeValues(dir, "changed.yaml", { ...FULL_VALUES, config: { ...FULL_VALUES.config, svmDeletionPolicy: "DeleteWhenUnused" } });
    const rerendered = findObject(await renderChart({ namespace, valuesFiles: [changed] }), "Deployment");
    const checksum = (d: RenderedObject) => d.spec.template.metadata.annotations["checksum/config"];
    expect(checksum(rerendered)).not.toBe(checksum(deployment));
  });

  it("renders metal-roles' values (Go entries, nothing added): passwords in Secrets only, a config the controller reads as unverified Go entries", async () => {
    const go = [
      { name: "cluster-a", ipaddress: "10.0.0.10", username: "admin", password: "Go-Passw0rd-a" },
      { name: "cluster-b", ipaddress: "10.0.0.20", username: "admin", password: "Go-Passw0rd-b" },
    ];
    const objects = await renderChart({ namespace, valuesFiles: [writeValues(dir, "metal-roles.yaml", metalRolesValues(go))] });
    expect(passwordsOutsideSecrets(objects, go.map((c) => c.password))).toEqual([]);
    const secrets = objects.filter((o) => o.kind === "Secret");
    expect(secrets.map((o) => o.metadata.name).sort()).toEqual(["gardener-extension-extension-ontap-ontap-cluster-a", "gardener-extension-extension-ontap-ontap-cluster-b"]);
    const deployment = findObject(objects, "Deployment");
    expect(deployment.spec.template.spec.containers[0].image).toBe("ghcr.io/metal-stack/gardener-extension-ontap:v0.2.20");
    expect(deployment.spec.template.spec.containers[0].imagePullPolicy).toBe("IfNotPresent");
    const text = findObject(objects, "ConfigMap", "gardener-extension-extension-ontap-config").data["config.yaml"];
    expect(parse(text).clusters[0]).toEqual({
      name: "cluster-a",
      ipaddress: "10.0.0.10",
      usernameFile: "/etc/gardener-extension-ontap/credentials/cluster-a/username",
      passwordFile: "/etc/gardener-extension-ontap/credentials/cluster-a/password",
    });
    // The controller reads it with the Secrets' files as the kubelet mounts them.
    const files = new Map<string, string>();
    for (const s of secrets) {
      const name = s.metadata.name.replace("gardener-extension-extension-ontap-ontap-", "");
      for (const key of ["username", "password"]) files.set(`/etc/gardener-extension-ontap/credentials/${name}/${key}`, Buffer.from(s.data[key], "base64").toString());
    }
    const read = parseComponentConfig(text, "config.yaml", (p) => files.get(p) ?? "");
    expect(read.clusters.map((c) => [c.name, c.url, c.password, c.tls])).toEqual([
      ["cluster-a", "https://10.0.0.10", "Go-Passw0rd-a", { kind: "unverified", why: "go-extension-default" }],
      ["cluster-b", "https://10.0.0.20", "Go-Passw0rd-b", { kind: "unverified", why: "go-extension-default" }],
    ]);
    // No pinning asked: no ConfigMap rule for pins.
    expect(JSON.stringify(findObject(objects, "Role", "gardener-extension-extension-ontap").rules)).not.toContain("tls-pins");

    // What an operator adds to the same Ansible variable: an inline CA (into the Secret), or pinning (a Role rule).
    const ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const added = await renderChart({
      namespace,
      valuesFiles: [writeValues(dir, "metal-roles-tls.yaml", metalRolesValues([{ ...go[0]!, ca } as never, { ...go[1]!, pinCertificate: true } as never]))],
    });
    expect(passwordsOutsideSecrets(added, go.map((c) => c.password))).toEqual([]);
    const addedConfig = parse(findObject(added, "ConfigMap", "gardener-extension-extension-ontap-config").data["config.yaml"]);
    expect(addedConfig.clusters[0]).toMatchObject({ caFile: "/etc/gardener-extension-ontap/ca/cluster-a/ca.crt" });
    expect(addedConfig.clusters[1]).toMatchObject({ pinCertificate: true });
    const secretA = findObject(added, "Secret", "gardener-extension-extension-ontap-ontap-cluster-a");
    expect(Buffer.from(secretA.data["ca.crt"], "base64").toString()).toBe(ca);
    expect(findObject(added, "Role", "gardener-extension-extension-ontap").rules).toContainEqual({
      apiGroups: [""],
      resources: ["configmaps"],
      resourceNames: ["gardener-extension-ontap-tls-pins"],
      verbs: ["get", "update"],
    });
  });

  it("passes imageVectorOverwrite as metal-roles does (a string) to the controller: ConfigMap, mount, IMAGEVECTOR_OVERWRITE", async () => {
    // metal-roles' csi-driver-lvm template: `imageVectorOverwrite: |` then `images: {{ ... | to_json }}`.
    const images = [{ name: "trident-operator", repository: "mirror.example/netapp/trident-operator", tag: "25.10.0", targetVersion: ">= 1.34, < 1.35" }];
    const values = { ...metalRolesValues([{ name: "cluster-a", ipaddress: "10.0.0.10", username: "admin", password: "Go-Passw0rd-a" }]), imageVectorOverwrite: `images: ${JSON.stringify(images)}\n` };
    const objects = await renderChart({ namespace, valuesFiles: [writeValues(dir, "overwrite.yaml", values)] });
    const configMap = findObject(objects, "ConfigMap", "gardener-extension-extension-ontap-imagevector-overwrite");
    const pod = findObject(objects, "Deployment").spec.template;
    const container = pod.spec.containers[0];
    expect(container.env).toContainEqual({ name: "IMAGEVECTOR_OVERWRITE", value: "/charts_overwrite/images_overwrite.yaml" });
    expect(container.volumeMounts).toContainEqual({ name: "extension-imagevector-overwrite", mountPath: "/charts_overwrite/", readOnly: true });
    expect(pod.spec.volumes).toContainEqual({
      name: "extension-imagevector-overwrite",
      configMap: { name: "gardener-extension-extension-ontap-imagevector-overwrite", defaultMode: 0o444 },
    });
    expect(pod.metadata.annotations["checksum/configmap-extension-imagevector-overwrite"]).toMatch(/^[0-9a-f]{64}$/);
    // What the controller reads from the mounted file.
    const file = path.join(dir, "images_overwrite.yaml");
    writeFileSync(file, configMap.data["images_overwrite.yaml"]);
    const vector = loadImageVector(file);
    expect(selectTrident({ vector, kubernetesVersion: "1.34.3" }).operatorImage).toBe("mirror.example/netapp/trident-operator:25.10.0");
    expect(selectTrident({ vector, kubernetesVersion: "1.35.0" }).operatorImage).toBe("docker.io/netapp/trident-operator:26.02.1");

    // A mapping works the same; without the value nothing of it is rendered.
    const asMapping = await renderChart({ namespace, valuesFiles: [writeValues(dir, "overwrite-map.yaml", { ...values, imageVectorOverwrite: { images } })] });
    writeFileSync(file, findObject(asMapping, "ConfigMap", "gardener-extension-extension-ontap-imagevector-overwrite").data["images_overwrite.yaml"]);
    expect(selectTrident({ vector: loadImageVector(file), kubernetesVersion: "1.34.3" }).operatorImage).toBe("mirror.example/netapp/trident-operator:25.10.0");
    const plain = await renderChart({ namespace });
    expect(plain.some((o) => o.metadata.name.endsWith("imagevector-overwrite"))).toBe(false);
    expect(JSON.stringify(findObject(plain, "Deployment"))).not.toContain("IMAGEVECTOR_OVERWRITE");
  });

  it("keeps passwords in Secrets only, whatever the values' format", async () => {
    const full = await renderChart({ namespace, valuesFiles: [writeValues(dir, "full.yaml", FULL_VALUES)] });
    expect(passwordsOutsideSecrets(full, ["s3cr3t-a"])).toEqual([]);
    // The check itself finds a password where one is (a ConfigMap, base64 in an annotation).
    const planted: RenderedObject[] = [
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { "config.yaml": "password: s3cr3t-a" } },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "y", annotations: { a: Buffer.from("s3cr3t-a").toString("base64") } } },
    ];
    expect(passwordsOutsideSecrets(planted, ["s3cr3t-a"])).toEqual(["ConfigMap/x.data.config.yaml", "Pod/y.metadata.annotations.a"]);
  });

  it("refuses a cluster without credentials, naming the field and the fix", async () => {
    const bad = writeValues(dir, "bad.yaml", { config: { clusters: [{ name: "metro-a", url: "https://10.0.0.10" }] } });
    await expect(renderChart({ namespace, valuesFiles: [bad] })).rejects.toThrow(
      /config\.clusters\[metro-a\]: set credentialsSecret .* or both username and password/,
    );
  });

  it("grants Secrets and ManagedResources by exactly the names the controller uses", async () => {
    const objects = await renderChart({ namespace });
    const rules = findObject(objects, "ClusterRole").rules as Array<{ resources: string[]; resourceNames?: string[]; verbs: string[] }>;
    const secretNames = rules.find((r) => r.resources.includes("secrets") && r.resourceNames)?.resourceNames ?? [];
    // The health check's token-requestor Secret (src/health/shoot-access.ts) is read by its name too.
    expect([...secretNames].sort()).toEqual([SECRET_NAME, ...COMPONENT_SECRET_NAMES, SHOOT_HEALTH_ACCESS_SECRET].sort());
    const mrNames = rules.find((r) => r.resources.includes("managedresources") && r.resourceNames)?.resourceNames ?? [];
    expect([...mrNames].sort()).toEqual(SHOOT_COMPONENTS.map((c) => c.name).sort());
    // No rule reads every Secret of the seed.
    const wideSecretReads = rules.filter((r) => r.resources.includes("secrets") && !r.resourceNames && r.verbs.some((v) => ["get", "list", "watch"].includes(v)));
    expect(wideSecretReads).toEqual([]);
  });

  it("ships alert rules promtool accepts and that fire as meant, each with a runbook section, and a dashboard", async () => {
    const objects = await renderChart({ namespace });
    const rule = findObject(objects, "PrometheusRule");
    expect(rule.metadata).toMatchObject({ namespace: "garden", labels: { prometheus: "seed" } });
    const rulesFile = path.join(dir, "rules.yaml");
    writeFileSync(rulesFile, stringify(rule.spec));
    const promtool = chartTools().promtool;
    const run = promisify(execFile);
    const checked = await run(promtool, ["check", "rules", rulesFile]);
    expect(checked.stdout).toContain("SUCCESS: 7 rules found");

    const names = rule.spec.groups[0].rules.map((r: { alert: string }) => r.alert);
    expect(names).toEqual([
      "OntapExtensionEscalated",
      "OntapSeedSecretWritesFailing",
      "OntapCredentialsRejected",
      "OntapSvmNotRunning",
      "OntapApiErrors",
      "OntapClusterUnreachable",
      "OntapExtensionNoLeader",
    ]);
    const runbook = readFileSync(path.join(REPO_ROOT, "docs", "operations.md"), "utf8");
    for (const r of rule.spec.groups[0].rules as Array<{ alert: string; annotations: { runbook_url: string } }>) {
      expect(r.annotations.runbook_url).toMatch(new RegExp(`docs/operations\\.md#${r.alert.toLowerCase()}$`));
      expect(runbook, `docs/operations.md has a section for ${r.alert}`).toContain(`\n## ${r.alert}\n`);
    }

    // promtool's rule unit tests: series in, alerts out (with the annotations as the rules template them).
    const rules = rule.spec.groups[0].rules as Array<{ alert: string; labels: Record<string, string>; annotations: Record<string, string> }>;
    const expected = (alert: string, labels: Record<string, string>) => {
      const r = rules.find((x) => x.alert === alert)!;
      const annotations = Object.fromEntries(
        Object.entries(r.annotations).map(([k, v]) => [k, v.replace(/\{\{ \$labels\.([a-z]+) \}\}/g, (_m, l: string) => labels[l] ?? "")]),
      );
      return { exp_labels: { ...r.labels, ...labels }, exp_annotations: annotations };
    };
    const testsFile = path.join(dir, "rules-test.yaml");
    writeFileSync(
      testsFile,
      stringify({
        rule_files: [rulesFile],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: [
              { series: 'gardener_extension_ontap_escalated{namespace="shoot--p--a",name="ontap"}', values: "0 1x10" },
              { series: "gardener_extension_ontap_leader", values: "1x5 0x10" },
              { series: 'gardener_extension_ontap_ontap_requests_total{cluster="metro-a",status="error"}', values: "0+5x20" },
              { series: 'gardener_extension_ontap_ontap_requests_total{cluster="metro-b",status="200"}', values: "0+5x20" },
            ],
            alert_rule_test: [
              {
                eval_time: "8m",
                alertname: "OntapExtensionEscalated",
                exp_alerts: [expected("OntapExtensionEscalated", { namespace: "shoot--p--a", name: "ontap" })],
              },
              { eval_time: "3m", alertname: "OntapExtensionEscalated", exp_alerts: [] },
              { eval_time: "12m", alertname: "OntapExtensionNoLeader", exp_alerts: [expected("OntapExtensionNoLeader", {})] },
              { eval_time: "4m", alertname: "OntapExtensionNoLeader", exp_alerts: [] },
              // metro-a only fails without an answer: unreachable; metro-b answers: not.
              { eval_time: "18m", alertname: "OntapClusterUnreachable", exp_alerts: [expected("OntapClusterUnreachable", { cluster: "metro-a" })] },
            ],
          },
        ],
      }),
    );
    const tested = await run(promtool, ["test", "rules", testsFile]).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`promtool test rules failed:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
    });
    expect(tested.stdout).toContain("SUCCESS");

    const dashboard = findObject(objects, "ConfigMap", "gardener-extension-extension-ontap-dashboard");
    expect(dashboard.metadata.labels?.["dashboard.monitoring.gardener.cloud/seed"]).toBe("true");
    const json = JSON.parse(dashboard.data["gardener-extension-ontap.json"]) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    expect(json.panels.length).toBeGreaterThanOrEqual(6);
    for (const p of json.panels) for (const t of p.targets) expect(t.expr).toContain("gardener_extension_ontap_");
  });
});
