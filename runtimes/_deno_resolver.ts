/**
 * The Deno resolver: the system's getaddrinfo through `node:dns`, or one
 * name server queried directly by nettrace's own UDP client.
 *
 * @module
 */

// Deno has no getaddrinfo API of its own: `Deno.resolveDns` is a DNS client
// (hickory) that reads /etc/resolv.conf but not /etc/hosts or nsswitch.
// Deno's `node:dns` `lookup` is implemented with getaddrinfo, so it is the
// system resolver here.
import type { Resolver } from "../src/types.ts";
import type { ResolverOptions } from "./_dns_common.ts";
import { buildResolver, nodeDnsLookup } from "./_resolver.ts";

export type { ResolvedAddr, ResolverOptions } from "./_dns_common.ts";

/**
 * Creates a resolver for the core's `dial()`.
 *
 * Without `nameServer` it is the system resolver: `localhost` and names
 * under it are answered with `127.0.0.1` / `::1` at once (RFC 6761 §6.3);
 * every other name goes to getaddrinfo (`node:dns` `lookup`), which honours
 * `/etc/hosts`, `/etc/nsswitch.conf` and `/etc/resolv.conf`. getaddrinfo
 * reports a name that lacks the asked family as not found, like a missing
 * name; the core treats that family as empty when the other has addresses.
 * getaddrinfo cannot be cancelled: an aborted lookup rejects at once and its
 * late result is dropped.
 *
 * With `nameServer` it sends A and AAAA queries over UDP to that server only
 * (no `/etc/hosts`, no search list), one try each, `timeout` ms, and tells
 * NXDOMAIN (`no such host`, naming the server as Go does) from NODATA
 * (`[]`; a dial that finds no address at all names the server too); answers
 * carry `ttl`. An
 * abort closes the socket at once. This does not use `Deno.resolveDns`: it
 * fails NXDOMAIN, NODATA, SERVFAIL and REFUSED with one and the same
 * `NotFound` error, gives no TTL, and has no timeout of its own (15 s).
 *
 * @param options The name server and the per-query timeout.
 * @returns A resolver; its addresses are {@linkcode ResolvedAddr}s.
 * @throws {TypeError} When `nameServer.address` is not an IP address.
 * @throws {RangeError} When the port or the timeout is out of range.
 *
 * @example Asking a given name server
 * ```ts ignore
 * import { createResolver } from "@nettrace/nettrace/deno";
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
  return buildResolver(nodeDnsLookup, options);
}

/**
 * The system resolver (getaddrinfo, `/etc/hosts`), shared by every dial.
 *
 * @example Looking up localhost
 * ```ts ignore
 * import { resolver } from "@nettrace/nettrace/deno";
 *
 * const controller = new AbortController();
 * await resolver.lookup("localhost", 6, { signal: controller.signal });
 * // [{ address: "::1", family: 6 }]
 * ```
 */
export const resolver: Resolver = createResolver();
