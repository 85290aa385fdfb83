/**
 * The Node adapter's bound dial, apart from `node.ts` so that the parts of
 * the adapter built on it (`createConnection`) can import it without an
 * import loop through the entry file.
 *
 * @module
 */

import type { DialOptions, Resolver } from "../mod.ts";
import { bindDial } from "./_adapter.ts";
import { dialer, type NodeConn } from "./_node_dialer.ts";
import { resolver } from "./_node_resolver.ts";

/**
 * Options for this adapter's {@linkcode dial}.
 *
 * @example Dialling through a local name server
 * ```ts
 * import { createResolver, type RuntimeDialOptions } from "@nettrace/nettrace/node";
 *
 * const options: RuntimeDialOptions = {
 *   resolver: createResolver({ nameServer: { address: "127.0.0.1", port: 5353 } }),
 *   timeout: 5_000,
 * };
 * // const conn = await dial("db.test:5432", options);
 * ```
 */
export interface RuntimeDialOptions extends DialOptions {
  /**
   * The resolver; a name-server one comes from
   * `createResolver({ nameServer })`.
   * @default {resolver}
   */
  resolver?: Resolver;
  /**
   * Keep the socket writable after the peer's FIN (Go's and Deno's
   * behaviour). Off by default, as `net.connect` sets a socket up: the
   * socket ends its side and closes when the peer does.
   * @default {false}
   */
  allowHalfOpen?: boolean;
}

const adapterDial = bindDial({ resolver, dialer });

/**
 * `dial()` of the Node adapter: the core's dial with Node's resolver and
 * dialer bound, and `allowHalfOpen` applied to the connected socket.
 *
 * @param address `host:port`.
 * @param options How to dial.
 * @returns The connection.
 */
export function nodeDial(
  address: string,
  options?: RuntimeDialOptions,
): Promise<NodeConn> {
  const pending = adapterDial(address, options);
  if (options?.allowHalfOpen !== true) return pending;
  return pending.then((conn) => {
    conn.socket.allowHalfOpen = true;
    return conn;
  });
}
