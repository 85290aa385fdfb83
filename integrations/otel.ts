/**
 * OpenTelemetry spans from nettrace's trace hooks: one span for the lookup,
 * one per connection attempt and one per TLS handshake of a dial, each a
 * child of the span that was active when the dial started.
 *
 * The spans follow the only OpenTelemetry semantic conventions that
 * describe these steps, the ones for .NET's network spans
 * (`docs/dotnet/dotnet-network-traces.md`, status Development):
 *
 * | span                          | from → to                                | kind       |
 * | ----------------------------- | ---------------------------------------- | ---------- |
 * | `DNS lookup {host}`           | `dnsStart` → `dnsDone`                   | `INTERNAL` |
 * | `socket connect {ip:port}`    | `connectStart` → `connectDone`           | `INTERNAL` |
 * | `TLS client handshake {name}` | `tlsHandshakeStart` → `tlsHandshakeDone` | `INTERNAL` |
 *
 * All three are siblings under the dial's parent context, as .NET makes
 * them siblings under its connection-setup span: an attempt does not run
 * inside the lookup (later answers start attempts while the lookup goes
 * on), and a handshake follows its attempt's connect. The kind is
 * `INTERNAL`, as the conventions say: `CLIENT` is for a request to a remote
 * service that a `SERVER` span may continue, and neither a lookup nor a TCP
 * handshake carries trace context to anyone; the span of the protocol on
 * top (HTTP, a database client) is the `CLIENT` one.
 *
 * A span ends with status `ERROR`, `error.type` and the exception when its
 * step failed; an attempt that lost the race, or that a finished or
 * aborted dial cancelled, is no error: its status stays `UNSET` and
 * `nettrace.outcome` says `"cancelled"`.
 *
 * @example Spans for every dial of a program
 * ```ts ignore
 * import { dial as nodeDial } from "@nettrace/nettrace/node";
 * import { withOpenTelemetry } from "@nettrace/nettrace/otel";
 * import { trace } from "@opentelemetry/api";
 *
 * const dial = withOpenTelemetry(nodeDial);
 * await trace.getTracer("app").startActiveSpan("GET /", async (span) => {
 *   const conn = await dial("db.internal:5432"); // spans under "GET /"
 *   conn.close();
 *   span.end();
 * });
 * ```
 *
 * @module
 */

import {
  type Attributes,
  type Context as OtelContext,
  context as otelContext,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace as otelTrace,
  type Tracer,
} from "@opentelemetry/api";
import {
  background,
  contextTrace,
  DNSError,
  type Family,
  OpError,
  parsePort,
  splitHostPort,
  SyscallError,
  TLSError,
  type Trace,
  withTrace,
} from "../mod.ts";

/** The instrumentation scope's name. */
const SCOPE_NAME = "@nettrace/nettrace";
/** The instrumentation scope's version: keep in step with deno.json. */
const SCOPE_VERSION = "0.1.0";
/** Go's text for a cancelled operation (`CANCELED` in src/errors.ts). */
const CANCELED = "operation was canceled";

/**
 * Options for {@linkcode openTelemetryTrace} and
 * {@linkcode withOpenTelemetry}.
 *
 * @example A tracer of one's own and an explicit parent
 * ```ts
 * import type { OpenTelemetryTraceOptions } from "@nettrace/nettrace/otel";
 * import { context, trace } from "@opentelemetry/api";
 *
 * const options: OpenTelemetryTraceOptions = {
 *   tracer: trace.getTracer("my-service"),
 *   context: context.active(),
 * };
 * ```
 */
export interface OpenTelemetryTraceOptions {
  /**
   * The tracer that makes the spans.
   * @default {trace.getTracer("@nettrace/nettrace", version), the global provider's}
   */
  tracer?: Tracer;
  /**
   * The OpenTelemetry context (not nettrace's) whose span the dial's spans
   * are children of.
   * @default {context.active() when the dial starts (withOpenTelemetry: when it is called)}
   */
  context?: OtelContext;
}

/** What a step ended as, in `nettrace.outcome`. */
type Outcome = "ok" | "error" | "cancelled";

/**
 * Makes a {@linkcode Trace} that turns ONE dial's hooks into OpenTelemetry
 * spans: `DNS lookup {host}`, `socket connect {ip:port}` per attempt and
 * `TLS client handshake {name}` per handshake, all children of
 * `options.context` (by default the context active when the dial starts).
 *
 * Hooks carry no dial identity, so an instance must serve one dial at a
 * time: pass a fresh one in each dial's `trace` option, or wrap the dial
 * function with {@linkcode withOpenTelemetry}, which does that for you. Do
 * not put one on a context that many dials share (`withTrace` +
 * `runWithContext`): concurrent dials would mix their spans. An instance
 * may be reused once its dial has finished.
 *
 * Attributes — lookup: `dns.question.name`, `server.address`,
 * `server.port`, `dns.answers`, `nettrace.dns.coalesced`,
 * `nettrace.dns.cached`, and a `dns.answer` event per family; attempt:
 * `server.address`, `server.port`, `network.peer.address`,
 * `network.peer.port`, `network.transport` (`"tcp"`), `network.type`
 * (`"ipv4"`/`"ipv6"`), `nettrace.attempt.index`, `nettrace.attempt.cause`,
 * `nettrace.attempt.sorted_by`, `nettrace.attempt.nat64`; handshake:
 * `server.address` (the name verified), `network.peer.*`,
 * `tls.protocol.name`, `tls.protocol.version`, `tls.next_protocol` (ALPN),
 * `nettrace.attempt.index`. Every span gets `nettrace.outcome` (`"ok"`,
 * `"error"`, `"cancelled"`); a failed one `error.type` — the errno code
 * (`ECONNREFUSED`), `host_not_found`, `try_again`, `timeout`, the
 * `TLSError` kind (`untrusted`, `hostname`, …) or the error's class name —
 * status `ERROR` and the exception as an event.
 *
 * Every span started is ended: by its own done hook, or at `dialDone` for
 * whatever is still open then (as cancelled).
 *
 * @param options The tracer and the parent context.
 * @returns The trace, for one dial's `trace` option.
 *
 * @example Spans for one dial
 * ```ts ignore
 * import { dial } from "@nettrace/nettrace/deno";
 * import { openTelemetryTrace } from "@nettrace/nettrace/otel";
 *
 * const conn = await dial("localhost:8080", { trace: openTelemetryTrace() });
 * conn.close();
 * ```
 */
export function openTelemetryTrace(
  options: OpenTelemetryTraceOptions = {},
): Trace {
  let tracer: Tracer | undefined;
  let parent: OtelContext | undefined;
  /** The host and port as dialled. */
  let host: string | undefined;
  let port: number | undefined;
  let dns: Span | undefined;
  const attempts = new Map<number, Span>();
  const handshakes = new Map<number, Span>();
  let finished = false;

  /** Picks the tracer and the parent on the dial's first hook. */
  function begin(): Tracer {
    if (finished) {
      // The last dial is over: this hook starts the next one.
      finished = false;
      tracer = undefined;
      parent = undefined;
      host = undefined;
      port = undefined;
    }
    parent ??= options.context ?? otelContext.active();
    return tracer ??= options.tracer ??
      otelTrace.getTracer(SCOPE_NAME, SCOPE_VERSION);
  }

  function start(name: string, attributes: Attributes): Span {
    return begin().startSpan(
      name,
      { kind: SpanKind.INTERNAL, attributes },
      parent,
    );
  }

  function server(attributes: Attributes): Attributes {
    if (host !== undefined) attributes["server.address"] = host;
    if (port !== undefined) attributes["server.port"] = port;
    return attributes;
  }

  return {
    dialStart({ address }) {
      if (finished || host === undefined) {
        begin();
        const [h, p] = splitAddress(address);
        host = h;
        port = p;
      }
    },

    dnsStart(info) {
      begin();
      host ??= info.host;
      dns?.end(); // Never twice in one dial; a stray span still ends.
      dns = start(
        `DNS lookup ${info.host}`,
        server({ "dns.question.name": info.host }),
      );
    },

    dnsAnswer({ family, addrs, cached, error, records, name }) {
      if (dns === undefined) return;
      if (family === "service") {
        // Happy Eyeballs v3: the HTTPS/SVCB answer, no address family's.
        const attributes: Attributes = {
          "nettrace.dns.service.count": records?.length ?? 0,
        };
        if (name !== undefined) attributes["dns.question.name"] = name;
        if (error !== undefined) attributes["error.type"] = errorType(error);
        dns.addEvent("nettrace.dns.service", attributes);
        return;
      }
      const attributes: Attributes = {
        "network.type": networkType(family),
        "nettrace.dns.answer.count": addrs.length,
        "nettrace.dns.cached": cached,
      };
      // A service record's target name (HEv3), not the dialled host.
      if (name !== undefined) attributes["dns.question.name"] = name;
      if (error !== undefined) attributes["error.type"] = errorType(error);
      dns.addEvent("dns.answer", attributes);
    },

    dnsDone({ addrs, coalesced, cached, error }) {
      const span = dns;
      if (span === undefined) return;
      dns = undefined;
      span.setAttribute("nettrace.dns.coalesced", coalesced);
      span.setAttribute("nettrace.dns.cached", cached);
      if (addrs.length > 0) {
        span.setAttribute("dns.answers", addrs.map((a) => a.address));
      }
      end(span, error);
    },

    connectStart(info) {
      begin();
      const [peer, peerPort] = splitAddress(info.addr);
      if (port === undefined) port = peerPort;
      const attributes = server(peerAttributes(peer, peerPort, info.family));
      attributes["nettrace.attempt.index"] = info.attempt;
      attributes["nettrace.attempt.cause"] = info.cause;
      if (info.sortedBy !== undefined) {
        attributes["nettrace.attempt.sorted_by"] = info.sortedBy;
      }
      if (info.nat64 !== undefined) {
        attributes["nettrace.attempt.nat64"] = info.nat64;
      }
      attempts.get(info.attempt)?.end();
      attempts.set(
        info.attempt,
        start(`socket connect ${info.addr}`, attributes),
      );
    },

    connectDone({ attempt, error }) {
      const span = attempts.get(attempt);
      if (span === undefined) return;
      attempts.delete(attempt);
      end(span, error);
    },

    tlsHandshakeStart(info) {
      begin();
      const [peer, peerPort] = splitAddress(info.addr);
      const attributes = peerAttributes(peer, peerPort, info.family);
      attributes["server.address"] = info.serverName;
      attributes["nettrace.attempt.index"] = info.attempt;
      handshakes.get(info.attempt)?.end();
      handshakes.set(
        info.attempt,
        start(`TLS client handshake ${info.serverName}`, attributes),
      );
    },

    tlsHandshakeDone({ attempt, alpnProtocol, tlsVersion, error }) {
      const span = handshakes.get(attempt);
      if (span === undefined) return;
      handshakes.delete(attempt);
      if (typeof alpnProtocol === "string") {
        span.setAttribute("tls.next_protocol", alpnProtocol);
      }
      const version = tlsVersion === undefined
        ? undefined
        : /^(SSL|TLS)v?(\d+(?:\.\d+)?)$/i.exec(tlsVersion);
      if (version) {
        span.setAttribute("tls.protocol.name", version[1]!.toLowerCase());
        span.setAttribute("tls.protocol.version", version[2]!);
      }
      end(span, error);
    },

    dialDone() {
      // Whatever is still open was given up with the dial: a loser whose
      // cancellation lands later, a handshake cut short.
      for (const span of handshakes.values()) end(span, CANCELLED);
      handshakes.clear();
      for (const span of attempts.values()) end(span, CANCELLED);
      attempts.clear();
      if (dns !== undefined) {
        end(dns, CANCELLED);
        dns = undefined;
      }
      finished = true;
    },
  };
}

/** What `end` takes for a step the dial gave up. */
const CANCELLED: unique symbol = Symbol("cancelled");

/** Ends a span with its step's outcome. */
function end(span: Span, error: Error | undefined | typeof CANCELLED): void {
  let outcome: Outcome = "ok";
  if (error === CANCELLED) {
    outcome = "cancelled";
  } else if (error !== undefined) {
    if (!isTimeout(error) && isCancellation(error)) {
      outcome = "cancelled";
    } else {
      outcome = "error";
      span.setAttribute("error.type", errorType(error));
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
  }
  span.setAttribute("nettrace.outcome", outcome);
  span.end();
}

/** `host:port` split, the port a number when it is one; never throws. */
function splitAddress(address: string): [string, number | undefined] {
  try {
    const [host, service] = splitHostPort(address);
    let port: number | undefined;
    try {
      port = parsePort(service, "tcp");
    } catch {
      port = undefined;
    }
    return [host, port];
  } catch {
    return [address, undefined];
  }
}

function networkType(family: Family): string {
  return family === 6 ? "ipv6" : "ipv4";
}

function peerAttributes(
  peer: string,
  port: number | undefined,
  family: Family,
): Attributes {
  const attributes: Attributes = {
    "network.peer.address": peer,
    "network.transport": "tcp",
    "network.type": networkType(family),
  };
  if (port !== undefined) attributes["network.peer.port"] = port;
  return attributes;
}

/** The errors a step may end with, outermost first (an OpError's cause). */
function* chain(error: Error): Generator<Error> {
  let e: unknown = error;
  for (let depth = 0; depth < 8 && e instanceof Error; depth++) {
    yield e;
    e = e.cause;
  }
}

function isTimeout(error: Error): boolean {
  for (const e of chain(error)) {
    if (e.name === "TimeoutError") return true;
    if (e instanceof DNSError && e.isTimeout) return true;
  }
  return false;
}

/** The race cancelled the step, or the dial was aborted. */
function isCancellation(error: Error): boolean {
  for (const e of chain(error)) {
    if (e.name === "AbortError") return true;
    if (
      e instanceof DNSError ? e.reason === CANCELED : e.message === CANCELED
    ) {
      return true;
    }
  }
  return false;
}

/**
 * A low-cardinality `error.type`: the errno code, the DNS failure class,
 * `timeout`, the TLS error kind, else the error's class name.
 */
function errorType(error: Error): string {
  let e: Error = error;
  while (e instanceof OpError && e.cause instanceof Error) e = e.cause;
  if (isTimeout(e)) return "timeout";
  if (e instanceof SyscallError) return e.code;
  if (e instanceof DNSError) {
    if (e.isNotFound) return "host_not_found";
    if (e.isTemporary) return "try_again";
    return "DNSError";
  }
  if (e instanceof TLSError) return e.kind;
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && /^E[A-Z0-9]+$/.test(code)) return code;
  return e.name !== "" && e.name !== "Error" ? e.name : "_OTHER";
}

/**
 * Wraps a dial function so that each call gets a fresh
 * {@linkcode openTelemetryTrace}, composed with the `trace` the caller
 * passes (the OpenTelemetry hooks run first). The parent of the spans is
 * `options.context`, or the context active when the wrapped function is
 * called. Works with the core `dial` and every adapter's.
 *
 * @typeParam F The dial function's type, kept as it is.
 * @param dial The dial function: `(address, options) => Promise<conn>`.
 * @param options The tracer and the parent context.
 * @returns A dial function of the same type.
 *
 * @example A traced dial for a runtime adapter
 * ```ts ignore
 * import { dial as denoDial } from "@nettrace/nettrace/deno";
 * import { withOpenTelemetry } from "@nettrace/nettrace/otel";
 *
 * const dial = withOpenTelemetry(denoDial);
 * const conn = await dial("localhost:5432", {
 *   trace: { connectDone: ({ addr, error }) => console.log(addr, error) },
 * });
 * conn.close();
 * ```
 *
 * @example Wrapping the core dial
 * ```ts
 * import { dial as coreDial, type Endpoint } from "@nettrace/nettrace";
 * import { withOpenTelemetry } from "@nettrace/nettrace/otel";
 *
 * const dial = withOpenTelemetry(coreDial);
 * const endpoint: Endpoint = await dial("127.0.0.1:80", {
 *   resolver: { lookup: () => Promise.resolve([]) },
 *   dialer: { connect: (endpoint) => Promise.resolve(endpoint), close() {} },
 * });
 * ```
 */
export function withOpenTelemetry<
  F extends (address: string, options: never) => Promise<unknown>,
>(dial: F, options: OpenTelemetryTraceOptions = {}): F {
  const wrapped = (address: string, dialOptions?: { trace?: Trace }) => {
    const otel = openTelemetryTrace({
      tracer: options.tracer,
      context: options.context ?? otelContext.active(),
    });
    const theirs = dialOptions?.trace;
    const trace = theirs === undefined
      ? otel
      : contextTrace(withTrace(withTrace(background, theirs), otel))!;
    return (dial as unknown as (a: string, o: object) => Promise<unknown>)(
      address,
      { ...dialOptions, trace },
    );
  };
  return wrapped as unknown as F;
}
