/**
 * The runtime adapter the demo dials with, picked by the runtime it runs
 * on — a script may; the library never does.
 *
 * @module
 */

import process from "node:process";
import type { Conn, HistoryStore, Resolver } from "../mod.ts";
import type { RuntimeDialOptions } from "../runtimes/node.ts";

/** The slice of a runtime adapter the demo uses. */
export interface Adapter {
  dial(address: string, options?: RuntimeDialOptions): Promise<Conn>;
  createResolver(options: {
    nameServer: { address: string; port: number };
  }): Resolver;
  resolver: Resolver;
  history: HistoryStore;
  splitHostPort(hostport: string): [string, string];
  DialError: new (errors: Error[]) => AggregateError;
  DEFAULT_ATTEMPT_DELAY: number;
  DEFAULT_RESOLUTION_DELAY: number;
}

export async function loadAdapter(): Promise<
  { adapter: Adapter; runtime: string }
> {
  const g = globalThis as Record<string, unknown>;
  if ("Deno" in g) {
    const version = (g.Deno as { version: { deno: string } }).version.deno;
    return {
      adapter: await import("../runtimes/deno.ts") as unknown as Adapter,
      runtime: `deno ${version}`,
    };
  }
  if ("Bun" in g) {
    const version = (g.Bun as { version: string }).version;
    return {
      adapter: await import("../runtimes/bun.ts") as unknown as Adapter,
      runtime: `bun ${version}`,
    };
  }
  return {
    adapter: await import("../runtimes/node.ts") as unknown as Adapter,
    runtime: `node ${process.versions.node}`,
  };
}
