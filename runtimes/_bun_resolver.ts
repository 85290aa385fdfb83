/**
 * The Bun resolver: the system's getaddrinfo through `Bun.dns.lookup`, or
 * one name server queried directly by nettrace's own UDP client.
 *
 * @module
 */

import type { Family, Resolver } from "../src/types.ts";
import {
  type ResolvedAddr,
  type ResolverOptions,
  toResolvedAddrs,
} from "./_dns_common.ts";
import { buildResolver } from "./_resolver.ts";

export type { ResolvedAddr, ResolverOptions } from "./_dns_common.ts";

/** The slice of `Bun.dns` used here (no `@types/bun` in the core). */
interface BunDnsLike {
  lookup(
    hostname: string,
    options: {
      family: 4 | 6;
      backend?: "system" | "libc" | "c-ares" | "getaddrinfo";
    },
  ): Promise<{ address: string; family: 4 | 6; ttl?: number }[]>;
}

function bunDns(): BunDnsLike | undefined {
  return (globalThis as { Bun?: { dns?: BunDnsLike } }).Bun?.dns;
}

/**
 * Creates a resolver for the core's `dial()`.
 *
 * Without `nameServer` it is the system resolver: `localhost` and names
 * under it are answered with `127.0.0.1` / `::1` at once (RFC 6761 §6.3);
 * every other name goes to `Bun.dns.lookup` with the `"system"` backend
 * (getaddrinfo on Linux), which honours `/etc/hosts`, `/etc/nsswitch.conf`
 * and `/etc/resolv.conf` — Bun's default c-ares backend skips nsswitch.
 * getaddrinfo gives no TTL, and reports a name that lacks the asked family
 * as not found, like a missing name; the core treats that family as empty
 * when the other has addresses. `Bun.dns.lookup` cannot be cancelled: an
 * aborted lookup rejects at once and its late result is dropped.
 *
 * With `nameServer` it sends A and AAAA queries over UDP to that server only
 * (no `/etc/hosts`, no search list), one try each, `timeout` ms, and tells
 * NXDOMAIN (`no such host`, naming the server as Go does) from NODATA
 * (`[]`; a dial that finds no address at all names the server too); answers
 * carry `ttl`. An
 * abort closes the socket at once. This does not use Bun's `node:dns`
 * `Resolver`: it serves answers from its own cache and reports NODATA as
 * `ENOTFOUND` without the server.
 *
 * @param options The name server and the per-query timeout.
 * @returns A resolver; its addresses are {@linkcode ResolvedAddr}s.
 * @throws {TypeError} When `nameServer.address` is not an IP address.
 * @throws {RangeError} When the port or the timeout is out of range.
 *
 * @example Asking a given name server
 * ```ts ignore
 * import { createResolver } from "@nettrace/nettrace/bun";
 *
 * const resolver = createResolver({
 *   nameServer: { address: "127.0.0.1", port: 5353 },
 *   timeout: 1000,
 * });
 * const addrs = await resolver.lookup("db.test", 4, {
 *   signal: AbortSignal.timeout(2000),
 * });
 * ```
 */
export function createResolver(options?: ResolverOptions): Resolver {
  return buildResolver(getaddrinfo, options);
}

/**
 * The system resolver (getaddrinfo, `/etc/hosts`), shared by every dial.
 *
 * @example Looking up localhost
 * ```ts ignore
 * import { resolver } from "@nettrace/nettrace/bun";
 *
 * const controller = new AbortController();
 * await resolver.lookup("localhost", 6, { signal: controller.signal });
 * // [{ address: "::1", family: 6 }]
 * ```
 */
export const resolver: Resolver = createResolver();

async function getaddrinfo(
  host: string,
  family: Family,
): Promise<ResolvedAddr[]> {
  const dns = bunDns();
  if (dns === undefined) {
    throw new TypeError(
      `Cannot look up "${host}": Bun.dns is missing (the Bun adapter needs Bun)`,
    );
  }
  const records = await dns.lookup(host, { family, backend: "system" });
  return toResolvedAddrs(records, family);
}
