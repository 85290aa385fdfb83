/**
 * A minimal RFC 1035 stub resolver over UDP (`node:dgram`): one A, AAAA,
 * HTTPS or SVCB query to one name server, one answer, no retries, no TCP.
 * The message format is in `_dns_message.ts`, the UDP transport (sockets
 * shared by the queries in flight) in `_dns_socket.ts`.
 *
 * All three adapters use it for `createResolver({ nameServer })` because
 * the native APIs cannot report what the core needs, or not alike:
 * `Deno.resolveDns` fails NXDOMAIN, NODATA, SERVFAIL and REFUSED alike with
 * the same `NotFound` error, has no TTL and no per-query timeout; Bun's
 * `node:dns` `Resolver` reports NODATA as `ENOTFOUND` and caches answers;
 * Node's (c-ares) stretches the timeout it is given and retries a truncated
 * answer over TCP, which this client reports as an error on every runtime.
 * Here the response code is read from the header itself.
 *
 * Not part of the public API.
 *
 * @module
 */

import { channel } from "node:diagnostics_channel";
import { DNSError } from "../src/errors.ts";
import type { Family, ServiceRecord } from "../src/types.ts";
import {
  canonicalName,
  type NameServer,
  type ResolvedAddr,
  toResolvedAddrs,
} from "./_dns_common.ts";
import {
  decodeResponse,
  decodeServiceResponse,
  encodeQuery,
} from "./_dns_message.ts";
import { serviceQuestion, TYPE_HTTPS } from "./_svcb.ts";
import { sendQuery, type Settled } from "./_dns_socket.ts";

export {
  type DecodedAnswer,
  type DecodedServiceAnswer,
  decodeResponse,
  decodeServiceResponse,
  encodeQuery,
} from "./_dns_message.ts";

/** Options for {@linkcode queryAddrs}. */
export interface DnsQueryOptions {
  /** The server to ask. */
  server: NameServer;
  /** Milliseconds to wait for the answer. */
  timeout: number;
  /** Aborts the query: it rejects with `signal.reason` at once. */
  signal: AbortSignal;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;

const RCODE_NOERROR = 0;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;

/**
 * Asks `options.server` for the A (family 4) or AAAA (family 6) records of
 * `host`.
 *
 * @param host The name; a trailing dot is allowed, no search list applies.
 * @param family 4 for A, 6 for AAAA.
 * @param options The server, the timeout and the abort signal.
 * @returns The addresses in answer order, each with its TTL; `[]` when the
 * name exists without records of that type (NODATA).
 * @throws {DNSError} `no such host` (NXDOMAIN or an invalid name),
 * `server misbehaving` (SERVFAIL: temporary; REFUSED and other codes),
 * `i/o timeout`, `read: connection refused` (nothing listens on the port),
 * `cannot unmarshal DNS message`, or a truncated answer.
 */
export function queryAddrs(
  host: string,
  family: Family,
  options: DnsQueryOptions,
): Promise<ResolvedAddr[]> {
  const qtype = family === 4 ? TYPE_A : TYPE_AAAA;
  return exchange(host, host, qtype, options, (message, query) => {
    const answer = decodeResponse(message, query);
    if (answer === undefined) return undefined;
    const error = answerError(answer, host, options.server);
    return error ??
      toResolvedAddrs(answer.records, family, { recordTtl: true });
  });
}

/** Options for {@linkcode queryService}. */
export interface ServiceQueryOptions extends DnsQueryOptions {
  /** The URI scheme (`"https"` asks for HTTPS records). */
  scheme: string;
  /** The port the caller dials. */
  port: number;
}

/**
 * Asks `options.server` for the service records of `host`: HTTPS records
 * of the host for `https` on port 443, of `_PORT._https.host` on another
 * port, SVCB records of `_PORT._scheme.host` for other schemes (RFC 9460
 * §2.3, §9.1). CNAMEs in the answer are followed.
 *
 * A record that cannot be used (malformed, not self-consistent, a
 * mandatory key not understood: RFC 9460 §2.2, §2.4.3, §8) is left out
 * and published on {@linkcode SERVICE_IGNORED_CHANNEL}; records beyond
 * {@linkcode MAX_SERVICE_RECORDS} are dropped the same way.
 *
 * @param host The host name; a trailing dot is allowed, no search list.
 * @param options The server, timeout, signal, scheme and port.
 * @returns The records in answer order, each with its TTL; `[]` when the
 * name exists without such records (NODATA).
 * @throws {DNSError} As {@linkcode queryAddrs}, naming the name queried.
 * @throws {TypeError} When the scheme cannot be a DNS label.
 * @throws {RangeError} When the port is out of range.
 */
export function queryService(
  host: string,
  options: ServiceQueryOptions,
): Promise<ServiceRecord[]> {
  const bare = host.endsWith(".") ? host.slice(0, -1) : host;
  const { name, qtype } = serviceQuestion(bare, options.scheme, options.port);
  return exchange(name, name, qtype, options, (message, query) => {
    const answer = decodeServiceResponse(message, query);
    if (answer === undefined) return undefined;
    const error = answerError(answer, name, options.server);
    if (error !== undefined) return error;
    if (answer.ignored.length !== 0 && ignoredChannel.hasSubscribers) {
      for (const reason of answer.ignored) {
        const info: ServiceIgnoredInfo = {
          host,
          name: query.name,
          type: qtype === TYPE_HTTPS ? "HTTPS" : "SVCB",
          server: options.server.text,
          reason,
        };
        ignoredChannel.publish(info);
      }
    }
    return answer.records;
  });
}

/**
 * The `node:diagnostics_channel` on which {@linkcode queryService} reports
 * each record it ignored ({@linkcode ServiceIgnoredInfo}).
 */
export const SERVICE_IGNORED_CHANNEL = "nettrace:dns:service-ignored";
const ignoredChannel = channel(SERVICE_IGNORED_CHANNEL);

/** A message on {@linkcode SERVICE_IGNORED_CHANNEL}. */
export interface ServiceIgnoredInfo {
  /** The host looked up. */
  host: string;
  /** The name queried (`_8443._https.host` for a port prefix). */
  name: string;
  /** The record type. */
  type: "HTTPS" | "SVCB";
  /** The server that answered (`host:port`). */
  server: string;
  /** Why the record was left out. */
  reason: string;
}

/**
 * Sends one query for `name` and `qtype` to the server (`_dns_socket.ts`:
 * on a socket shared with the other queries in flight to it) and settles
 * with what `decode` makes of the answer to it: a value, or an error to
 * reject with; `undefined` for a datagram that does not answer the
 * question. Rejects with `signal.reason` on abort and with `i/o timeout`
 * after `timeout`; releases the timer, the listener and the socket on
 * every way out.
 */
function exchange<T>(
  host: string,
  queried: string,
  qtype: number,
  options: DnsQueryOptions,
  decode: (
    message: Uint8Array,
    query: { id: number; name: string; qtype: number },
  ) => T | DNSError | undefined,
): Promise<T> {
  const { server, timeout, signal } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  const name = canonicalName(queried);
  if (name === undefined) {
    return Promise.reject(
      new DNSError("no such host", host, {
        isNotFound: true,
        server: server.text,
      }),
    );
  }
  return sendQuery({
    server,
    timeout,
    signal,
    // The ID is written by sendQuery: unique among the socket's queries.
    packet: encodeQuery(0, name, qtype),
    answer(message, id): Settled | undefined {
      const result = decode(message, { id, name, qtype });
      if (result === undefined) return undefined; // not an answer to us
      return result instanceof DNSError ? { error: result } : { value: result };
    },
    timedOut: () =>
      new DNSError("i/o timeout", host, {
        isTimeout: true,
        server: server.text,
      }),
    socketError: (err) => socketError(err, host, server),
  }) as Promise<T>;
}

function socketError(err: Error, host: string, server: NameServer): DNSError {
  const code = (err as { code?: unknown }).code;
  if (code === "ECONNREFUSED") {
    return new DNSError("read: connection refused", host, {
      server: server.text,
      cause: err,
    });
  }
  return new DNSError(err.message || String(code), host, {
    server: server.text,
    cause: err,
  });
}

function answerError(
  answer: { rcode: number; truncated: boolean; malformed: boolean },
  host: string,
  server: NameServer,
): DNSError | undefined {
  const base = { server: server.text };
  if (answer.malformed) {
    return new DNSError("cannot unmarshal DNS message", host, base);
  }
  if (answer.rcode === RCODE_NXDOMAIN) {
    return new DNSError("no such host", host, { ...base, isNotFound: true });
  }
  if (answer.rcode === RCODE_SERVFAIL) {
    return new DNSError("server misbehaving", host, {
      ...base,
      isTemporary: true,
    });
  }
  if (answer.rcode !== RCODE_NOERROR) {
    // REFUSED, FORMERR, NOTIMP…: none make sense for our query (Go's view).
    return new DNSError("server misbehaving", host, base);
  }
  if (answer.truncated) {
    return new DNSError(
      "truncated response (DNS over TCP is not supported)",
      host,
      base,
    );
  }
  return undefined;
}
