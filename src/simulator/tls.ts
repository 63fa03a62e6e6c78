import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface SimTls {
  dir: string;
  caFile: string;
  key: Buffer;
  cert: Buffer;
  /** Removes the directory if the simulator created it; a caller's certDir is left in place. */
  cleanup(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run("openssl", args, { cwd });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`openssl ${args[0]} failed while generating the simulator's certificates: ${stderr || error}`, {
      cause: error,
    });
  }
}

/**
 * A fresh CA and a server certificate for 127.0.0.1 and localhost signed by it, made with the openssl
 * CLI. Clients verify the simulator with `ca.pem`, exactly as they would a cluster with a private CA.
 */
export async function generateTls(certDir?: string, extraIps: readonly string[] = []): Promise<SimTls> {
  const owned = certDir === undefined;
  const dir = certDir ?? (await mkdtemp(join(tmpdir(), "ontap-sim-")));
  await mkdir(dir, { recursive: true });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    [
      "req", "-x509", ...ec, "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "3650",
      "-subj", "/O=gardener-extension-ontap/CN=ONTAP simulator CA",
      "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  await openssl(["req", ...ec, "-keyout", "server-key.pem", "-out", "server.csr", "-subj", "/CN=localhost"], dir);
  await writeFile(
    join(dir, "server-ext.cnf"),
    [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${["IP:127.0.0.1", ...extraIps.map((ip) => `IP:${ip}`), "DNS:localhost"].join(",")}`,
    ].join("\n"),
  );
  await openssl(
    [
      "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
      "-set_serial", `0x${randomBytes(8).toString("hex")}`, "-days", "825",
      "-extfile", "server-ext.cnf", "-out", "server.pem",
    ],
    dir,
  );
  const [key, cert] = await Promise.all([readFile(join(dir, "server-key.pem")), readFile(join(dir, "server.pem"))]);
  return {
    dir,
    caFile: join(dir, "ca.pem"),
    key,
    cert,
    cleanup: async () => {
      if (owned) await rm(dir, { recursive: true, force: true });
    },
  };
}
