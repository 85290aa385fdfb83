/**
 * The Node resolver: the system's getaddrinfo through `dns.promises.lookup`,
 * or one name server queried directly through a `dns.promises.Resolver`
 * (c-ares).
 *
 * @module
 */

import { promises as dns } from "node:dns";
import { CANCELED, DNSError } from "../src/errors.ts";
import type { Family, Resolver } from "../src/types.ts";
import {
  abortable,
  canonicalName,
  checkResolverOptions,
  errorCode,
  localAnswer,
  type NameServer,
  type ResolvedAddr,
  type ResolverOptions,
  systemLookup,
  toResolvedAddrs,
} from "./_dns_common.ts";
import { HostsFile, systemHostsFile } from "./_hosts_file.ts";

export type { ResolvedAddr, ResolverOptions } from "./_dns_common.ts";

/**
 * Creates a resolver for the core's `dial()`.
 *
 * Without `nameServer` it is the system resolver: `localhost` and names
 * under it are answered with `127.0.0.1` / `::1` at once (RFC 6761 §6.3);
 * every other name goes to getaddrinfo (`dns.lookup`), which honours
 * `/etc/hosts`, `/etc/nsswitch.conf` and `/etc/resolv.conf`. getaddrinfo
 * reports a name that lacks the asked family as not found, like a missing
 * name; the core treats that family as empty when the other has addresses.
 * getaddrinfo cannot be cancelled: an aborted lookup rejects at once and its
 * late result is dropped.
 *
 * With `nameServer` it sends A and AAAA queries to that server only (no
 * `/etc/hosts`, no search list) with c-ares, one try each, `timeout` ms, and
 * tells NXDOMAIN (`no such host`) from NODATA (`[]`); answers carry `ttl`.
 * An abort cancels the query.
 *
 * @param options The name server and the per-query timeout.
 * @returns A resolver; its addresses are {@linkcode ResolvedAddr}s.
 * @throws {TypeError} When `nameServer.address` is not an IP address.
 * @throws {RangeError} When the port or the timeout is out of range.
 *
 * @example Asking a given name server
 * ```ts ignore
 * import { createResolver } from "@nettrace/nettrace/node";
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
    lookup: (host, family, { signal }) =>
      queryNameServer(host, family, { signal, nameServer, timeout }),
  };
}

/**
 * The system resolver (getaddrinfo, `/etc/hosts`), shared by every dial.
 *
 * @example Looking up localhost
 * ```ts ignore
 * import { resolver } from "@nettrace/nettrace/node";
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
  const records = await dns.lookup(host, {
    family,
    all: true,
    order: "verbatim",
  });
  return toResolvedAddrs(records, family);
}

function queryNameServer(
  host: string,
  family: Family,
  options: { signal: AbortSignal; nameServer: NameServer; timeout: number },
): Promise<ResolvedAddr[]> {
  const { signal, nameServer, timeout } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  const local = localAnswer(host, family, false);
  if (local !== undefined) {
    return abortable(signal, () => Promise.resolve(local));
  }
  const name = canonicalName(host);
  if (name === undefined) {
    return abortable(signal, () =>
      Promise.reject(
        new DNSError("no such host", host, {
          isNotFound: true,
          server: nameServer.text,
        }),
      ));
  }
  // One c-ares channel per lookup, so that cancel() stops only this query.
  const native = new dns.Resolver({ timeout, tries: 1 });
  // c-ares stretches its timeout (about twice the one given, more for short
  // ones), so the timeout is enforced here too, on a timer always cleared.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    clearTimeout(timer);
    native.cancel();
  };
  return abortable(signal, async () => {
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        native.cancel();
        reject(
          new DNSError("i/o timeout", host, {
            isTimeout: true,
            server: nameServer.text,
          }),
        );
      }, timeout);
    });
    try {
      native.setServers([nameServer.text]);
      const query = family === 4
        ? native.resolve4(name, { ttl: true })
        : native.resolve6(name, { ttl: true });
      return toResolvedAddrs(await Promise.race([query, timedOut]), family, {
        recordTtl: true,
      });
    } catch (err) {
      // c-ares reports NOERROR without records (NODATA) as ENODATA and
      // NXDOMAIN as ENOTFOUND.
      if (errorCode(err) === "ENODATA") return [];
      throw err instanceof DNSError
        ? err
        : nameServerError(err, host, nameServer);
    } finally {
      clearTimeout(timer);
    }
  }, stop);
}

function nameServerError(
  err: unknown,
  host: string,
  nameServer: NameServer,
): DNSError {
  const options = { server: nameServer.text, cause: err };
  switch (errorCode(err)) {
    case "ENOTFOUND":
    case "EBADNAME":
      return new DNSError("no such host", host, {
        ...options,
        isNotFound: true,
      });
    case "ESERVFAIL":
      return new DNSError("server misbehaving", host, {
        ...options,
        isTemporary: true,
      });
    case "EREFUSED":
    case "EFORMERR":
    case "ENOTIMP":
      return new DNSError("server misbehaving", host, options);
    case "ETIMEOUT":
      return new DNSError("i/o timeout", host, { ...options, isTimeout: true });
    case "ECONNREFUSED":
      return new DNSError("read: connection refused", host, options);
    case "EBADRESP":
      return new DNSError("cannot unmarshal DNS message", host, options);
    case "ECANCELLED":
      return new DNSError(CANCELED, host, options);
  }
  const message = err instanceof Error && err.message !== ""
    ? err.message
    : String(err);
  return new DNSError(message, host, options);
}
