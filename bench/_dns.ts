/**
 * The DNS fixture (tests/_dns_server.ts) in a process of its own, for the
 * cross-runtime comparison: a burst of 2,000 queries is read as it arrives
 * (on the other core) instead of piling up in the socket's receive buffer
 * while the measured process is busy sending them.
 *
 *   node bench/_dns.ts '<zone as JSON>' [port]
 *
 * Prints `{"port":N}` once listening; answers a line "queries?" on stdin
 * with `{"queries":N}` (all queries received so far); exits when stdin
 * closes or on SIGTERM.
 *
 * @module
 */

import dgram from "node:dgram";
import { syncBuiltinESMExports } from "node:module";
import process from "node:process";
import type { DnsZone } from "../tests/_dns_server.ts";

// The fixture's socket gets the largest receive buffer allowed
// (net.core.rmem_max): at the default (~208 KiB) a burst of 2,000 queries
// overflows it and the lost queries wait out the client's retry timeout.
// The fixture takes no socket options, so createSocket is wrapped before it
// is imported (syncBuiltinESMExports makes the ESM binding see the wrapper).
const createSocket = dgram.createSocket;
dgram.createSocket = ((...args: Parameters<typeof createSocket>) => {
  const socket = createSocket(...args);
  socket.once("listening", () => socket.setRecvBufferSize(8 << 20));
  return socket;
}) as typeof createSocket;
syncBuiltinESMExports();
const { startDnsServer } = await import("../tests/_dns_server.ts");

const zone = JSON.parse(process.argv[2] ?? "{}") as DnsZone;
const server = await startDnsServer({
  zone,
  port: Number(process.argv[3] ?? 0),
});
async function stop(): Promise<void> {
  await server.close();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.on("data", (data: Uint8Array) => {
  for (const line of new TextDecoder().decode(data).split("\n")) {
    if (line.includes("queries?")) {
      process.stdout.write(
        JSON.stringify({ queries: server.queries.length }) + "\n",
      );
    }
  }
});
process.stdout.write(JSON.stringify({ port: server.port }) + "\n");
