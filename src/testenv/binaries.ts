import { existsSync, readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { TestEnvError } from "./errors.js";

/** Where hack/build-*.sh keep what they build (binaries.env, chart-tools.env, the binaries). */
export function cacheDir(): string {
  return process.env.GARDENER_EXTENSION_ONTAP_CACHE ?? path.join(os.homedir(), ".cache", "gardener-extension-ontap");
}

/**
 * Paths of the binaries: env TESTENV_KUBE_APISERVER_BIN / TESTENV_ETCD_BIN / TESTENV_GARDENER_RESOURCE_MANAGER_BIN,
 * else the env file the build recipe writes. `gardenerResourceManager` is undefined when it was never built.
 */
export function resolveBinaries(): { kubeApiserver: string; etcd: string; gardenerResourceManager?: string } {
  let kubeApiserver = process.env.TESTENV_KUBE_APISERVER_BIN;
  let etcd = process.env.TESTENV_ETCD_BIN;
  let gardenerResourceManager = process.env.TESTENV_GARDENER_RESOURCE_MANAGER_BIN;
  const envFile = path.join(cacheDir(), "bin", "binaries.env");
  if ((!kubeApiserver || !etcd || !gardenerResourceManager) && existsSync(envFile)) {
    for (const line of readFileSync(envFile, "utf8").split("\n")) {
      const [key, ...rest] = line.split("=");
      const value = rest.join("=").trim();
      if (key === "KUBE_APISERVER") kubeApiserver ??= value;
      if (key === "ETCD") etcd ??= value;
      if (key === "GARDENER_RESOURCE_MANAGER") gardenerResourceManager ??= value;
    }
  }
  if (!kubeApiserver || !etcd || !existsSync(kubeApiserver) || !existsSync(etcd)) {
    throw new TestEnvError(
      `kube-apiserver/etcd binaries not found (looked at TESTENV_KUBE_APISERVER_BIN, TESTENV_ETCD_BIN and ${envFile}); ` +
        "run `bash hack/build-kube-binaries.sh` first",
      "BINARIES_MISSING",
    );
  }
  if (gardenerResourceManager && !existsSync(gardenerResourceManager)) gardenerResourceManager = undefined;
  // An env file written by an older copy of the recipe names only the first two; the binary may be there anyway.
  const binDir = path.join(cacheDir(), "bin");
  gardenerResourceManager ??= (existsSync(binDir) ? readdirSync(binDir, { withFileTypes: true }) : [])
    .filter((e) => e.isFile() && /^gardener-resource-manager-v[\d.]+$/.test(e.name))
    .map((e) => path.join(binDir, e.name))
    .sort()
    .at(-1);
  return { kubeApiserver, etcd, gardenerResourceManager };
}
