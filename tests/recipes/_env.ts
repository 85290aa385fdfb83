/**
 * What every recipe test shares: the DNS fixture (started per test, so
 * Deno's sanitizers see it closed) serving `db.test` with AAAA `::1`
 * (refused: the servers listen on 127.0.0.1 only) and A `127.0.0.1`, a
 * nettrace resolver asking it, and a trace that records the hooks.
 *
 * @module
 */

import { startDnsServer } from "../_dns_server.ts";
import {
  createResolver,
  type Resolver,
  type Trace,
} from "../../runtimes/node.ts";

/** The name the fixture serves: `::1` (refused) and `127.0.0.1`. */
export const DB_NAME = "db.test";
/** The same, a name the test certificate is valid for (`tests/fixtures/tls`). */
export const TLS_NAME = "tls.test";
/** A name the fixture answers with NXDOMAIN. */
export const UNKNOWN_NAME = "nosuch.test";

/** A per-test environment: the resolver, the recorded hooks. */
export interface RecipeEnv {
  resolver: Resolver;
  trace: Trace;
  /** `dnsDone <host> <coalesced>` / `connectDone <addr> <code|ok>`. */
  events: string[];
  /** How many dnsDone hooks said `coalesced`. */
  coalesced(): number;
  /** How many A queries for `name` reached the DNS fixture. */
  aQueries(name?: string): number;
  close(): Promise<void>;
}

/**
 * Starts the DNS fixture and makes the resolver and the trace.
 *
 * @returns The environment; `close()` it at the end of the test.
 */
export async function recipeEnv(): Promise<RecipeEnv> {
  const dns = await startDnsServer({
    zone: {
      [DB_NAME]: { A: ["127.0.0.1"], AAAA: ["::1"] },
      [TLS_NAME]: { A: ["127.0.0.1"], AAAA: ["::1"] },
    },
  });
  const events: string[] = [];
  let coalesced = 0;
  const trace: Trace = {
    dnsDone: ({ host, coalesced: shared, error }) => {
      if (shared) coalesced++;
      events.push(`dnsDone ${host} ${error ? "error" : "ok"}`);
    },
    connectDone: ({ addr, error }) =>
      events.push(
        `connectDone ${addr} ${
          error ? (error as { code?: string }).code ?? "error" : "ok"
        }`,
      ),
  };
  return {
    resolver: createResolver({ nameServer: dns.nameServer, timeout: 2000 }),
    trace,
    events,
    coalesced: () => coalesced,
    aQueries: (name = DB_NAME) =>
      dns.queries.filter((q) => q.name === name && q.type === "A").length,
    close: () => dns.close(),
  };
}

/**
 * The hooks a dial by name to `port` shows: the lookup, `::1` refused,
 * `127.0.0.1` connected (the first dial of a name; history may reorder
 * later ones).
 *
 * @param port The server's port.
 * @returns The expected events.
 */
export function dialByName(port: number): string[] {
  return [
    `dnsDone ${DB_NAME} ok`,
    `connectDone [::1]:${port} ECONNREFUSED`,
    `connectDone 127.0.0.1:${port} ok`,
  ];
}
