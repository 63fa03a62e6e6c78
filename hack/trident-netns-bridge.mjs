// Pipes TCP listeners to Unix sockets, or Unix-socket listeners to TCP addresses: the only way traffic crosses
// between the network namespace the real Trident runs in (hack/trident-e2e.ts) and the host's loopback. A Unix
// socket lives in the file system, which both sides share; no route, no interface and no address leaves either
// namespace.
//
//   node hack/trident-netns-bridge.mjs tcp:10.130.0.10:443=unix:/tmp/x/lif.sock unix:/tmp/x/rest.sock=tcp:127.0.0.1:8000 ...
//
// Each argument is LISTEN=TARGET. Prints "ready" on stdout once every listener is up; exits on SIGTERM.
import { rmSync } from "node:fs";
import net from "node:net";

function parse(spec) {
  if (spec.startsWith("unix:")) return { path: spec.slice("unix:".length) };
  const match = /^tcp:(.+):(\d+)$/.exec(spec);
  if (!match) throw new Error(`not tcp:HOST:PORT or unix:PATH: ${spec}`);
  return { host: match[1], port: Number(match[2]) };
}

const servers = [];
for (const arg of process.argv.slice(2)) {
  const [listenSpec, targetSpec] = arg.split("=");
  const listen = parse(listenSpec);
  const target = parse(targetSpec);
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
  });
  if (listen.path) rmSync(listen.path, { force: true });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen, resolve);
  });
  servers.push(server);
}
process.stdout.write("ready\n");
const stop = () => {
  for (const server of servers) server.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
