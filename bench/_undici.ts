/**
 * The undici scenarios of the cross-runtime comparison (bench/compare.ts):
 * undici requests on fresh connections, each connection made by undici's
 * own connector ("native": `net.connect` / `tls.connect` with undici's
 * defaults) or by nettrace's `undiciConnector` — same server, same run,
 * interleaved.
 *
 * - `undici`: `GET /` over HTTP/1.1 to 127.0.0.1, with `reset: true`, so
 *   undici sends `Connection: close` and every request dials anew.
 * - `undici-https`: the same over TLS with the tests' CA. undici's own
 *   connector caches TLS sessions (resumption) and nettrace's does not, so
 *   the "native" row has the cache off (`maxCachedSessions: 0`) and a
 *   further row shows it on.
 *
 * undici is loaded as `undici/index.js`: on Bun a bare `"undici"` is Bun's
 * built-in stand-in, whose `fetch` ignores the dispatcher.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import type { Row, ScenarioResult } from "./_results.ts";
import { type Closable, startChild } from "./_native.ts";

/** A measured variant: one request, resolved when its body has been read. */
export interface RequestVariant {
  name: string;
  run: () => Promise<Closable>;
}

/** What compare.ts lends the scenario: its interleaved timing loop. */
export interface Measure {
  interleaved(
    variants: RequestVariant[],
    options: { warmup: number; rounds: number },
  ): Promise<Row[]>;
  /** `full` normally, `quick` with NETTRACE_BENCH_QUICK=1. */
  n(full: number, quick: number): number;
}

/** The slice of undici the benchmark uses. */
interface UndiciLike {
  Agent: new (options?: Record<string, unknown>) => AgentLike;
}
interface AgentLike {
  request(options: {
    origin: string;
    path: string;
    method: string;
    reset?: boolean;
  }): Promise<{ statusCode: number; body: { text(): Promise<string> } }>;
  close(): Promise<void>;
}

const NOTHING: Closable = { close() {} };

/** The test CA, trusted by both sides of the TLS scenarios. */
export function testCA(): string {
  return readFileSync(
    new URL("../tests/fixtures/tls/ca.pem", import.meta.url),
    "utf8",
  );
}

async function loadUndici(): Promise<UndiciLike> {
  return await import("undici/index.js") as unknown as UndiciLike;
}

function requester(agent: AgentLike, origin: string): () => Promise<Closable> {
  return async () => {
    const { statusCode, body } = await agent.request({
      origin,
      path: "/",
      method: "GET",
      reset: true,
    });
    const text = await body.text();
    if (statusCode !== 200 || text !== "ok") {
      throw new Error(`unexpected response ${statusCode} ${text}`);
    }
    return NOTHING;
  };
}

/**
 * Runs one undici scenario: `kind` "http" or "https".
 *
 * @param kind The protocol.
 * @param measure compare.ts's timing loop.
 * @returns The scenario's rows: native, nettrace (and for https the
 * session-cache row), each with requests per second in `extra`.
 */
export async function scenarioUndici(
  kind: "http" | "https",
  measure: Measure,
): Promise<ScenarioResult> {
  const { Agent } = await loadUndici();
  const { undiciConnector } = await import("../integrations/undici.ts");
  const server = await startChild("_http_tls_server.ts", [kind]);
  const origin = `${kind}://127.0.0.1:${server.port}`;
  const ca = kind === "https" ? testCA() : undefined;
  const agents: Record<string, AgentLike> = kind === "http"
    ? {
      native: new Agent(),
      nettrace: new Agent({ connect: undiciConnector() }),
      // Without a timeout a dial of an IP literal takes the core's fast
      // path (one attempt, no scheduler): shows what the timeout costs.
      "nettrace, timeout: 0": new Agent({
        connect: undiciConnector({ timeout: 0 }),
      }),
    }
    : {
      native: new Agent({ connect: { ca, maxCachedSessions: 0 } }),
      nettrace: new Agent({ connect: undiciConnector({ caCerts: [ca!] }) }),
      "native, TLS session cache (undici's default)": new Agent({
        connect: { ca },
      }),
    };
  try {
    const variants = Object.entries(agents).map(([name, agent]) => ({
      name,
      run: requester(agent, origin),
    }));
    const before = (await server.ask("open?")).accepted!;
    const warmup = measure.n(kind === "http" ? 500 : 200, 20);
    const rounds = measure.n(kind === "http" ? 4000 : 1500, 100);
    const rows = await measure.interleaved(variants, { warmup, rounds });
    const accepted = (await server.ask("open?")).accepted! - before;
    const requests = (warmup + rounds) * variants.length;
    for (const row of rows) {
      row.extra = {
        ...row.extra,
        "requests/s": Math.round(1000 / row.median),
      };
    }
    if (accepted < requests) {
      throw new Error(
        `${requests} requests made only ${accepted} connections: some reused one`,
      );
    }
    return {
      id: kind === "http" ? "undici" : "undici-https",
      title: kind === "http"
        ? "undici request on a fresh connection (HTTP/1.1, 127.0.0.1)"
        : "undici request on a fresh TLS connection (HTTPS, 127.0.0.1)",
      method:
        `undici's Agent#request (GET /, body read) to a node:${kind} server in another process; reset: true, so every request dials anew (the server counted one connection per request). native: undici's own connector (net.connect/tls.connect); nettrace: undiciConnector() (its default 10 s connect timeout, as undici's)${
          kind === "https"
            ? ", trusting the test CA; the native row with undici's TLS session cache off (nettrace has none), the last row with it on (resumed handshakes)"
            : "; the row with timeout: 0 has none, so the dial of the IP literal takes the core's fast path"
        }. Variants interleaved, order rotated each round; the time is the whole request.`,
      rows,
    };
  } finally {
    await Promise.all(Object.values(agents).map((agent) => agent.close()));
    await server.close();
  }
}
