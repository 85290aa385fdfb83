/**
 * The listener the cross-runtime benchmark dials: a separate process (run by
 * the pinned Node), so its accepts and its file descriptors are not counted
 * in the process being measured.
 *
 * It listens on 127.0.0.1 and ::1 on one port (so `localhost` works in
 * either family), with the largest accept queue the kernel allows, accepts
 * every connection and closes it when the client closes its side. It prints
 * one JSON line, `{"port":N}`, once it listens, and exits when its stdin
 * closes (its parent went away) or on SIGTERM.
 *
 *   node bench/_server.ts [--hosts 127.0.0.1,::1] [--ports K]
 *
 * @module
 */

import { createServer, type Server, type Socket } from "node:net";
import process from "node:process";

const hostsArg = process.argv.indexOf("--hosts");
const hosts = hostsArg > 0
  ? process.argv[hostsArg + 1]!.split(",")
  : ["127.0.0.1", "::1"];
// `--ports K`: K - 1 more ports on the first host, for benchmarks that
// rotate ports so that TIME_WAIT sockets do not pile up on one.
const portsArg = process.argv.indexOf("--ports");
const extraPorts = portsArg > 0 ? Number(process.argv[portsArg + 1]) - 1 : 0;

let open = 0;

function onConnection(socket: Socket): void {
  open++;
  socket.on("error", () => {});
  socket.on("end", () => socket.destroy());
  socket.on("close", () => open--);
}

function listen(host: string, port: number): Promise<Server> {
  const server = createServer({ noDelay: true }, onConnection);
  return new Promise<Server>((resolve, reject) => {
    server.once("error", reject);
    // The kernel caps the backlog at net.core.somaxconn (4096 by default).
    server.listen({ host, port, backlog: 65535 }, () => {
      server.off("error", reject);
      resolve(server);
    });
  });
}

async function listenAll(): Promise<{ port: number; servers: Server[] }> {
  for (let tries = 0; tries < 50; tries++) {
    const first = await listen(hosts[0]!, 0);
    const { port } = first.address() as { port: number };
    const servers = [first];
    try {
      for (const host of hosts.slice(1)) servers.push(await listen(host, port));
      return { port, servers };
    } catch {
      // The port is taken on another address: try another.
      for (const server of servers) server.close();
    }
  }
  throw new Error(`cannot listen on ${hosts.join(", ")} with one port`);
}

const { port, servers } = await listenAll();
const ports = [port];
for (let i = 0; i < extraPorts; i++) {
  const server = await listen(hosts[0]!, 0);
  servers.push(server);
  ports.push((server.address() as { port: number }).port);
}
function stop(): void {
  for (const server of servers) server.close();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.on("data", (data: Uint8Array) => {
  // "open?" asks how many accepted connections are still open.
  if (new TextDecoder().decode(data).includes("open?")) {
    process.stdout.write(JSON.stringify({ open }) + "\n");
  }
});
process.stdout.write(JSON.stringify({ port, ports }) + "\n");
