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
import process from "node:process";
import { DNSError } from "../src/errors.ts";
import type {
  Family,
  LookupServiceOptions,
  Resolver,
  ServiceRecord,
} from "../src/types.ts";
import { queryAddrs, queryService } from "./_dns_client.ts";
import {
  abortable,
  checkResolverOptions,
  isLocalhost,
  localAnswer,
  type NameServer,
  type ResolvedAddr,
  type ResolverOptions,
  systemLookup,
  toResolvedAddrs,
} from "./_dns_common.ts";
import { HostsFile, systemHostsFile } from "./_hosts_file.ts";
import { ResolvConf } from "./_resolv_conf.ts";
import { serviceQuestion } from "./_svcb.ts";

/**
 * A runtime's getaddrinfo: the addresses of one family, or a rejection
 * with the native error (mapped to a `DNSError` by the builder).
 */
export type SystemLookup = (
  host: string,
  family: Family,
) => Promise<ResolvedAddr[]>;

/** Internal options of {@linkcode buildResolver}, for tests. */
export interface BuildResolverInternals {
  /**
   * The resolv.conf whose name servers the system resolver asks for
   * service records; `false`: the system resolver has no `lookupService`.
   * @default {"/etc/resolv.conf" (none on Windows)}
   */
  resolvConf?: string | false;
  /**
   * The port those name servers are asked on.
   * @default {53}
   */
  resolvPort?: number;
}

/**
 * Builds a resolver for the core's `dial()`. Without `nameServer` it is
 * the system resolver: `localhost` names and IP literals answered at once,
 * then the hosts file (the system's, the given one, or none), then
 * `getaddrinfo`. With `nameServer` it asks that server only, over UDP,
 * resolves `[]` for NODATA (as `Resolver` says) and names the server as
 * its `server`, so a dial that finds no address says so as Go does
 * (`lookup h on 127.0.0.1:53: no such host`).
 *
 * Both have `lookupService` (HTTPS/SVCB records, RFC 9460), asked with the
 * own DNS client: the name-server resolver asks its server; the system
 * resolver, since getaddrinfo cannot ask for these types, asks the name
 * servers of `/etc/resolv.conf` in order (its `timeout` and `attempts`),
 * after answering `[]` itself for IP literals, `localhost` names and names
 * in the hosts file (which have no service records); the name is asked as
 * it is (no search list). A service lookup resolves `[]` for NODATA. On
 * Windows the system resolver has no `lookupService`.
 *
 * @param getaddrinfo The runtime's system lookup.
 * @param options The adapter's `createResolver()` options.
 * @param internals Where resolv.conf is (tests only).
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
  internals?: BuildResolverInternals,
): Resolver {
  const { nameServer, timeout, hostsFile } = checkResolverOptions(options);
  if (nameServer === undefined) {
    const hosts = hostsFile === false
      ? undefined
      : hostsFile === undefined
      ? systemHostsFile()
      : new HostsFile(hostsFile, { nsswitch: false });
    const path = internals?.resolvConf ??
      (process.platform === "win32" ? false : "/etc/resolv.conf");
    const resolver: Resolver = {
      lookup: (host, family, { signal }) =>
        systemLookup(host, family, signal, getaddrinfo, hosts),
    };
    if (path !== false) {
      const conf = new ResolvConf(path, { port: internals?.resolvPort });
      resolver.lookupService = (host, serviceOptions) =>
        serviceLookup(host, serviceOptions, {
          local: (name) =>
            isLocalhost(name) || hosts?.lookup(name, 4) !== undefined,
          servers: () => conf.servers(),
        });
    }
    return resolver;
  }
  const servers = { servers: [nameServer], timeout, attempts: 1 };
  return {
    lookupService: (host, serviceOptions) =>
      serviceLookup(host, serviceOptions, {
        local: () => false,
        servers: () => servers,
      }),
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

/** Where {@linkcode serviceLookup} answers itself and whom it asks. */
interface ServiceSources {
  /** Whether the name is answered locally (`[]`, nothing asked). */
  local(host: string): boolean;
  /** The name servers to ask in order, the timeout and the rounds. */
  servers(): { servers: NameServer[]; timeout: number; attempts: number };
}

/**
 * A service lookup: `[]` for an IP literal or a local name, else the
 * servers in order, `attempts` rounds. NXDOMAIN, an abort and a bad
 * argument end it at once; another failure (SERVFAIL, a timeout, a
 * refused port) moves on to the next server, and the last one is the
 * rejection when none answered.
 */
async function serviceLookup(
  host: string,
  options: LookupServiceOptions,
  sources: ServiceSources,
): Promise<ServiceRecord[]> {
  const { signal, scheme, port } = options;
  if (signal.aborted) throw signal.reason;
  serviceQuestion(host, scheme, port); // a bad scheme or port throws here
  if (localAnswer(host, 4, false) !== undefined || sources.local(host)) {
    return await abortable(signal, () => Promise.resolve([]));
  }
  const { servers, timeout, attempts } = sources.servers();
  let last: unknown;
  for (let round = 0; round < attempts; round++) {
    for (const server of servers) {
      try {
        return await queryService(host, {
          server,
          timeout,
          signal,
          scheme,
          port,
        });
      } catch (err) {
        if (
          signal.aborted || !(err instanceof DNSError) || err.isNotFound
        ) {
          throw err;
        }
        last = err;
      }
    }
  }
  throw last;
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
