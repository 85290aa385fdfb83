/**
 * `deno bench bench/dial_bench.ts`: nettrace's `dial` against `Deno.connect`
 * (the baseline of each group) on loopback, to a listener in this process
 * that closes each connection when the client closes its side.
 *
 * Each iteration connects and closes; the client closes first, so its
 * TIME_WAIT sockets are reused on loopback (`net.ipv4.tcp_tw_reuse` = 2, the
 * Linux default). The cross-runtime comparison (bench/compare.ts,
 * `npm run bench:compare`) measures the same on Bun and Node too.
 *
 * @module
 */

import { dial } from "../runtimes/deno.ts";
import type { Trace } from "../mod.ts";

/** A listener on 127.0.0.1 and ::1 (one port) that accepts everything. */
function listen(): number {
  const v4 = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = v4.addr;
  const v6 = Deno.listen({ hostname: "::1", port });
  for (const listener of [v4, v6]) {
    listener.unref();
    (async () => {
      const buffer = new Uint8Array(16);
      for await (const conn of listener) {
        // Read until the client's FIN, then close: the client closes first.
        conn.read(buffer).catch(() => null).finally(() => {
          try {
            conn.close();
          } catch {
            // already closed
          }
        });
      }
    })();
  }
  return port;
}

const port = listen();
const literal = `127.0.0.1:${port}`;
const byName = `localhost:${port}`;

const noop: Trace = {
  dnsStart() {},
  dnsDone() {},
  connectStart() {},
  connectDone() {},
};

const events: unknown[] = [];
const recording: Trace = {
  dnsStart: (info) => events.push(info),
  dnsDone: (info) => events.push(info),
  connectStart: (info) => events.push(info),
  connectDone: (info) => events.push(info),
};

const IP = "IP literal on loopback";
const NAME = "localhost by name";

Deno.bench({
  name: "Deno.connect",
  group: IP,
  baseline: true,
  async fn() {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
  },
});

Deno.bench({
  name: "nettrace dial, no trace",
  group: IP,
  async fn() {
    (await dial(literal)).close();
  },
});

Deno.bench({
  name: "nettrace dial, no-op trace",
  group: IP,
  async fn() {
    (await dial(literal, { trace: noop })).close();
  },
});

Deno.bench({
  name: "nettrace dial, recording trace",
  group: IP,
  async fn() {
    events.length = 0;
    (await dial(literal, { trace: recording })).close();
  },
});

Deno.bench({
  name: 'Deno.connect({ hostname: "localhost" })',
  group: NAME,
  baseline: true,
  async fn() {
    (await Deno.connect({ hostname: "localhost", port })).close();
  },
});

Deno.bench({
  name: "nettrace dial localhost",
  group: NAME,
  async fn() {
    (await dial(byName)).close();
  },
});
