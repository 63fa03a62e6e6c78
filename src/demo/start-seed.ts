import { cacheDir } from "../testenv/index.js";
import { DemoError, ensureKubeBinaries } from "./binaries.js";
import type { Display } from "./display.js";

/** Phase 1 of the story: kube-apiserver, etcd and gardener-resource-manager, cached or built once. */
export async function prepareBinaries(display: Display, signal: AbortSignal): Promise<void> {
  const what = "kube-apiserver, etcd, gardener-resource-manager";
  const binaries = display.step(`${what}: checking the cache (${cacheDir()})`);
  let building = false;
  const built = await ensureKubeBinaries((p) => {
    if (p.kind === "building") {
      if (!building) {
        display.note(
          "first run: building kube-apiserver, etcd and gardener-resource-manager (github.com/gardener/gardener) from the Go module proxy " +
            "(kube-apiserver about 5 minutes on two idle cores, gardener-resource-manager longer; later runs reuse them)",
        );
      }
      building = true;
      binaries.update(`${what}: ${p.line}`);
    } else if (p.kind === "downloads") binaries.update(`${what}: downloading Go modules (${p.count} so far)`);
    else if (p.kind === "log" && building) binaries.update(`${what}: ${p.line}`);
  }, signal);
  if (!built.gardenerResourceManager) {
    throw new DemoError(
      "gardener-resource-manager is missing: the build recipe named none (TESTENV_KUBE_APISERVER_BIN/TESTENV_ETCD_BIN point elsewhere?); " +
        "set TESTENV_GARDENER_RESOURCE_MANAGER_BIN too, or run `bash hack/build-kube-binaries.sh`, which builds it into the cache",
      "BINARIES_BUILD_FAILED",
    );
  }
  binaries.done(built.built ? `${what} built in ${Math.round(built.seconds)}s (cached for the next run)` : `${what}: reusing the cached binaries`);
}
