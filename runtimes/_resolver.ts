/**
 * The one resolver builder of the three runtimes: each adapter injects its
 * system lookup (getaddrinfo as the runtime exposes it) and gets its
 * `createResolver()`. A name server given in the options is asked by
 * nettrace's own UDP client (`_dns_client.ts`) on every runtime, so that
 * NXDOMAIN, NODATA, SERVFAIL, timeouts and TTLs read the same everywhere.
 * Not part of the public API.
 *
 * @module
 */

import { promises as dns } from "node:dns";
import type { Family, Resolver } from "../src/types.ts";
import { queryAddrs } from "./_dns_client.ts";
import {
  abortable,
  checkResolverOptions,
  localAnswer,
  type ResolvedAddr,
  type ResolverOptions,
  systemLookup,
  toResolvedAddrs,
} from "./_dns_common.ts";
import { HostsFile, systemHostsFile } from "./_hosts_file.ts";

/**
 * A runtime's getaddrinfo: the addresses of one family, or a rejection
 * with the native error (mapped to a `DNSError` by the builder).
 */
export type SystemLookup = (
  host: string,
  family: Family,
) => Promise<ResolvedAddr[]>;

/**
 * Builds a resolver for the core's `dial()`. Without `nameServer` it is
 * the system resolver: `localhost` names and IP literals answered at once,
 * then the hosts file (the system's, the given one, or none), then
 * `getaddrinfo`. With `nameServer` it asks that server only, over UDP,
 * resolves `[]` for NODATA (as `Resolver` says) and names the server as
 * its `server`, so a dial that finds no address says so as Go does
 * (`lookup h on 127.0.0.1:53: no such host`).
 *
 * @param getaddrinfo The runtime's system lookup.
 * @param options The adapter's `createResolver()` options.
 * @returns The resolver.
 * @throws {TypeError} When `nameServer.address` is not an IP address.
 * @throws {RangeError} When the port or the timeout is out of range.
 *
 * @example A runtime's createResolver
 * ```ts ignore
 * export function createResolver(options?: ResolverOptions): Resolver {
 *   return buildResolver(getaddrinfo, options);
 * }
 * ```
 */
export function buildResolver(
  getaddrinfo: SystemLookup,
  options?: ResolverOptions,
): Resolver {
  const { nameServer, timeout, hostsFile } = checkResolverOptions(options);
  if (nameServer === undefined) {
    const hosts = hostsFile === false
      ? undefined
      : hostsFile === undefined
      ? systemHostsFile()
      : new HostsFile(hostsFile, { nsswitch: false });
    return {
      lookup: (host, family, { signal }) =>
        systemLookup(host, family, signal, getaddrinfo, hosts),
    };
  }
  return {
    lookup(host, family, { signal }) {
      const local = localAnswer(host, family, false);
      if (local !== undefined) {
        return abortable(signal, () => Promise.resolve(local));
      }
      return queryAddrs(host, family, { server: nameServer, timeout, signal });
    },
    server: nameServer.text,
  };
}

/**
 * getaddrinfo through `node:dns` `lookup` (Node's, and Deno's, which has
 * no getaddrinfo API of its own): every address of `family`, in the
 * system's order.
 *
 * @param host The name.
 * @param family The family asked for.
 * @returns The addresses, without TTL (getaddrinfo gives none).
 *
 * @example Deno's and Node's system lookup
 * ```ts ignore
 * const resolver = buildResolver(nodeDnsLookup);
 * ```
 */
export async function nodeDnsLookup(
  host: string,
  family: Family,
): Promise<ResolvedAddr[]> {
  const records = await dns.lookup(host, {
    family,
    all: true,
    order: "verbatim",
  });
  return toResolvedAddrs(records, family);
}
