import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * kube-apiserver and etcd for the demo, through the same recipe as the tests (hack/build-kube-binaries.sh):
 * the first run compiles them from the Go module proxy (minutes), later runs reuse the cache (a second).
 */
export class DemoError extends Error {
  override readonly name = "DemoError";
  constructor(
    message: string,
    readonly code: "BINARIES_BUILD_FAILED" | "TIMEOUT" | "INTERRUPTED",
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BUILD_SCRIPT = path.join(REPO_ROOT, "hack", "build-kube-binaries.sh");

export type BuildProgress =
  | { kind: "reusing"; line: string }
  | { kind: "building"; line: string }
  | { kind: "downloads"; count: number }
  | { kind: "log"; line: string };

export interface KubeBinaries {
  kubeApiserver: string;
  etcd: string;
  /** Built by the same recipe; undefined only when TESTENV_* variables point at binaries built elsewhere. */
  gardenerResourceManager?: string;
  /** True when this run compiled at least one binary. */
  built: boolean;
  seconds: number;
}

/** Runs the build recipe (which reuses cached binaries), reporting its progress line by line. */
export function ensureKubeBinaries(onProgress: (p: BuildProgress) => void, signal?: AbortSignal): Promise<KubeBinaries> {
  const envApiserver = process.env.TESTENV_KUBE_APISERVER_BIN;
  const envEtcd = process.env.TESTENV_ETCD_BIN;
  const envGrm = process.env.TESTENV_GARDENER_RESOURCE_MANAGER_BIN;
  if (envApiserver && envEtcd && envGrm) {
    return Promise.resolve({ kubeApiserver: envApiserver, etcd: envEtcd, gardenerResourceManager: envGrm, built: false, seconds: 0 });
  }

  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [BUILD_SCRIPT], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], signal });
    let built = false;
    let downloads = 0;
    const tail: string[] = [];
    const result: Record<string, string> = {};
    const onStderr = (line: string) => {
      tail.push(line);
      if (tail.length > 15) tail.shift();
      if (line.startsWith("go: downloading ")) {
        downloads++;
        if (downloads % 10 === 1) onProgress({ kind: "downloads", count: downloads });
        return;
      }
      const message = line.replace(/^\[build-kube-binaries [0-9:]+\] /, "");
      if (message.startsWith("reusing ")) onProgress({ kind: "reusing", line: message });
      else if (message.startsWith("resolving and compiling")) {
        built = true;
        onProgress({ kind: "building", line: message });
      } else if (line.startsWith("[build-kube-binaries")) onProgress({ kind: "log", line: message });
    };
    lines(child.stderr, onStderr);
    lines(child.stdout, (line) => {
      const [key, ...rest] = line.split("=");
      if (key === "KUBE_APISERVER" || key === "ETCD" || key === "GARDENER_RESOURCE_MANAGER") result[key] = rest.join("=");
    });
    child.on("error", (err) => {
      reject(
        signal?.aborted
          ? new DemoError("interrupted while preparing kube-apiserver and etcd", "INTERRUPTED", { cause: err })
          : new DemoError(`cannot run ${BUILD_SCRIPT}: ${err.message}`, "BINARIES_BUILD_FAILED", { cause: err }),
      );
    });
    child.on("close", (code) => {
      const kubeApiserver = result.KUBE_APISERVER;
      const etcd = result.ETCD;
      if (code === 0 && kubeApiserver && etcd) {
        resolve({ kubeApiserver, etcd, gardenerResourceManager: result.GARDENER_RESOURCE_MANAGER, built, seconds: (Date.now() - started) / 1000 });
        return;
      }
      if (signal?.aborted) {
        reject(new DemoError("interrupted while preparing kube-apiserver and etcd", "INTERRUPTED"));
        return;
      }
      reject(
        new DemoError(
          `${path.relative(REPO_ROOT, BUILD_SCRIPT)} failed (exit ${code}); its last lines:\n${tail.join("\n")}`,
          "BINARIES_BUILD_FAILED",
        ),
      );
    });
  });
}

function lines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let buffer = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      const line = buffer.slice(0, newline).trimEnd();
      buffer = buffer.slice(newline + 1);
      if (line) onLine(line);
      newline = buffer.indexOf("\n");
    }
  });
  stream.on("end", () => {
    if (buffer.trim()) onLine(buffer.trim());
  });
}
