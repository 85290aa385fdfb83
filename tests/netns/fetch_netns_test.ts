/**
 * createFetch() in the network namespace of scripts/netns.sh: IPv6
 * blackholed (SYNs to 2001:db8:1::2 dropped), IPv4 fine (198.18.0.1), the
 * name `v6drop.test` having both. createFetch must answer within
 * `attemptDelay` + 100 ms on every runtime; the runtime's own fetch is
 * measured beside it in the same run and reported (not asserted: that is
 * what the comparison is for). Outside the namespace it registers one
 * skipped test.
 *
 * @module
 */

import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { createServer } from "node:http";
import type { Socket } from "node:net";
import { createFetch } from "../../integrations/fetch.ts";

const ATTEMPT_DELAY = 250;
/** How long the native fetch is given before it counts as hanging. */
const NATIVE_LIMIT = 6_000;

const runtime = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

interface Server {
  port: number;
  /** The local address of each accepted connection. */
  accepted: string[];
  close(): Promise<void>;
}

/** HTTP on every address of the namespace (`::`, dual-stack). */
async function startServer(): Promise<Server> {
  const sockets = new Set<Socket>();
  const accepted: string[] = [];
  const server = createServer((_req, res) => res.end("ok"));
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    accepted.push((socket.localAddress ?? "?").replace(/^::ffff:/, ""));
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) =>
    server.listen({ host: "::", port: 0, ipv6Only: false }, resolve)
  );
  const { port } = server.address() as { port: number };
  return {
    port,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Times `get(url)` to its body; an error or `NATIVE_LIMIT` is reported. */
async function timed(
  get: (url: string, init: { signal: AbortSignal }) => Promise<Response>,
  url: string,
  limit: number,
): Promise<{ ms: number; outcome: string }> {
  const start = performance.now();
  try {
    const response = await get(url, { signal: AbortSignal.timeout(limit) });
    const text = await response.text();
    return {
      ms: performance.now() - start,
      outcome: `${response.status} ${text}`,
    };
  } catch (error) {
    const e = error as Error & { cause?: Error };
    const why = e.cause?.message ?? e.message;
    return { ms: performance.now() - start, outcome: `${e.name}: ${why}` };
  }
}

const netns = process.env.NETTRACE_NETNS;

if (netns === undefined || netns === "") {
  test("createFetch() beside the native fetch with IPv6 blackholed", {
    skip: "runs only inside the namespace of scripts/netns.sh " +
      "(root; NETTRACE_NETNS unset)",
  }, () => {});
} else {
  test(`createFetch() answers within attemptDelay + 100 ms with IPv6 blackholed (${runtime}), beside the native fetch`, async (t: TestContext) => {
    const server = await startServer();
    // A server of its own for the warm-up, so no client can hand the
    // measured request a pooled connection.
    const warmServer = await startServer();
    // No connection history: it would learn which family works and lead
    // with it, and the race is what is measured.
    const fetch = createFetch({ attemptDelay: ATTEMPT_DELAY, history: false });
    try {
      // Warm both clients up (module init, JIT) on the IPv4 literal, so the
      // name's request is timed on its own.
      const warm = `http://198.18.0.1:${warmServer.port}/`;
      await timed(fetch, warm, NATIVE_LIMIT);
      await timed(globalThis.fetch, warm, NATIVE_LIMIT);
      const url = `http://v6drop.test:${server.port}/`;
      const ours = await timed(fetch, url, NATIVE_LIMIT);
      const native = await timed(globalThis.fetch, url, NATIVE_LIMIT);
      t.diagnostic(
        `createFetch: ${ours.ms.toFixed(0)} ms (${ours.outcome}); ` +
          `native fetch (${runtime}): ${native.ms.toFixed(0)} ms ` +
          `(${native.outcome})`,
      );
      console.log(
        `# fetch blackhole ${runtime}: createFetch ${ours.ms.toFixed(0)} ms ` +
          `(${ours.outcome}); native ${native.ms.toFixed(0)} ms ` +
          `(${native.outcome})`,
      );
      assert.equal(ours.outcome, "200 ok");
      assert.ok(
        ours.ms < ATTEMPT_DELAY + 100,
        `createFetch took ${ours.ms.toFixed(0)} ms`,
      );
      assert.deepEqual(
        [...new Set(server.accepted)],
        ["198.18.0.1"],
      );
    } finally {
      await fetch.close();
      await server.close();
      await warmServer.close();
    }
  });
}
