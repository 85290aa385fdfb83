/**
 * What createConnection()'s pure-JS wrapper costs, on any runtime:
 *
 *   node_modules/.bin/node bench/node_socket.ts
 *   node_modules/.bin/bun bench/node_socket.ts
 *   node_modules/.bin/deno run -A bench/node_socket.ts
 *
 * Against an echo server on 127.0.0.1, sequentially: (1) connect, one
 * 1-byte round trip, close — with `net.connect`, with the Node adapter's
 * `dial()` (its `net.Socket`), and with `createConnection()` (the Duplex
 * around it); (2) 5,000 1-byte round trips on one connection, on the
 * dialled `net.Socket` and through the wrapper. Prints the median and mean
 * per operation. (Not a `*_bench.ts` file: `deno bench bench/` does not
 * pick it up; it runs as a script.)
 *
 * @module
 */

import { connect, createServer, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import process from "node:process";
import { createConnection, dial } from "../runtimes/node.ts";

const CONNECTS = 1_000;
const ROUND_TRIPS = 5_000;
const ONE = new Uint8Array([42]);

function roundTrip(socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    socket.once("data", () => resolve());
    socket.write(ONE);
  });
}

function closed(socket: Duplex): Promise<void> {
  return new Promise((resolve) => {
    socket.once("close", () => resolve());
    socket.destroy();
  });
}

function connected(socket: Socket | Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
}

async function measure(
  n: number,
  fn: () => Promise<void>,
): Promise<{ median: number; mean: number }> {
  for (let i = 0; i < Math.min(100, n); i++) await fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return {
    median: times[Math.floor(n / 2)]! * 1000,
    mean: times.reduce((a, b) => a + b, 0) / n * 1000,
  };
}

function row(name: string, r: { median: number; mean: number }): string {
  return `${name.padEnd(50)} ${r.median.toFixed(1).padStart(8)} µs ${
    r.mean.toFixed(1).padStart(8)
  } µs`;
}

const server = createServer((s) => {
  s.on("data", (d) => s.write(d));
  s.on("error", () => {});
});
await new Promise<void>((resolve) =>
  server.listen(0, "127.0.0.1", () => resolve())
);
const port = (server.address() as { port: number }).port;
const address = `127.0.0.1:${port}`;

const results: string[] = [];
results.push(
  row(
    "connect + round trip + close: net.connect",
    await measure(CONNECTS, async () => {
      const s = connect({ host: "127.0.0.1", port });
      await connected(s);
      await roundTrip(s);
      await closed(s);
    }),
  ),
);
results.push(
  row(
    "connect + round trip + close: dial()",
    await measure(CONNECTS, async () => {
      const { socket } = await dial(address);
      await roundTrip(socket);
      await closed(socket);
    }),
  ),
);
results.push(
  row(
    "connect + round trip + close: createConnection()",
    await measure(CONNECTS, async () => {
      const s = createConnection({ host: "127.0.0.1", port });
      await connected(s);
      await roundTrip(s);
      await closed(s);
    }),
  ),
);
const { socket: raw } = await dial(address);
results.push(
  row(
    "1-byte round trip: the dialled net.Socket",
    await measure(ROUND_TRIPS, () => roundTrip(raw)),
  ),
);
await closed(raw);
const wrapped = createConnection({ host: "127.0.0.1", port });
await connected(wrapped);
results.push(
  row(
    "1-byte round trip: through createConnection()",
    await measure(ROUND_TRIPS, () => roundTrip(wrapped)),
  ),
);
await closed(wrapped);
await new Promise<void>((resolve) => server.close(() => resolve()));

const runtime = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : `node ${process.version}`;
console.log(`${runtime}: ${"".padEnd(40)}   median       mean`);
for (const line of results) console.log(line);
