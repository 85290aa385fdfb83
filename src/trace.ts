/**
 * Trace hooks, carried on a {@linkcode Context}: the TypeScript counterpart
 * of Go's `internal/nettrace` and `net/http/httptrace`.
 *
 * @module
 */

import {
  type Context,
  type ContextKey,
  createContextKey,
  withValue,
} from "./context.ts";
import type {
  Family,
  IPAddr,
  Network,
  Resolver,
  ServiceRecord,
} from "./types.ts";
import type { HistoryRecord } from "./history.ts";
import type { AttemptCause } from "./happy_eyeballs.ts";
import type { OrderRule, SourceAddress } from "./rfc6724.ts";

// Its home is the scheduler, which decides it; public from here as before.
export type { AttemptCause };

/**
 * What {@linkcode Trace.dnsStart} receives.
 *
 * @example Logging lookups
 * ```ts
 * import type { DNSStartInfo, Trace } from "@nettrace/nettrace";
 *
 * function dnsStart({ host }: DNSStartInfo): void {
 *   console.log("lookup", host);
 * }
 * const trace: Trace = { dnsStart };
 * ```
 */
export interface DNSStartInfo {
  /** The host as dialled: no port, no brackets, case kept. */
  host: string;
}

/**
 * What {@linkcode Trace.dnsDone} receives.
 *
 * @example Logging lookup results
 * ```ts
 * import type { DNSDoneInfo, Trace } from "@nettrace/nettrace";
 *
 * function dnsDone({ host, addrs, coalesced, error }: DNSDoneInfo): void {
 *   if (error !== undefined) {
 *     console.log(`lookup ${host} failed: ${error.message}`);
 *   } else {
 *     const shared = coalesced ? " (shared)" : "";
 *     console.log(host, addrs.map((a) => a.address), shared);
 *   }
 * }
 * const trace: Trace = { dnsDone };
 * ```
 */
export interface DNSDoneInfo {
  /** The host as dialled. */
  host: string;
  /**
   * The addresses that arrived, this caller's own copy: the dialled host's
   * own A/AAAA answers. With `service` (Happy Eyeballs v3), a record's
   * hints and its target names' addresses are not in it: `dnsAnswer`
   * reports those (with the target as `name`), and `dnsDone` does not wait
   * for them.
   */
  addrs: IPAddr[];
  /** True when the lookups were shared with another concurrent dial. */
  coalesced: boolean;
  /**
   * True when every family that answered was answered from a cache (a
   * caching resolver such as `cachingResolver()`), so no query was sent.
   */
  cached: boolean;
  /** Set when no address arrived: the lookup error, or why it was given up. */
  error?: Error;
}

/**
 * What {@linkcode Trace.dnsAnswer} receives: one family's lookup outcome.
 *
 * @example Timing each family's answer
 * ```ts
 * import type { DNSAnswerInfo, Trace } from "@nettrace/nettrace";
 *
 * const start = performance.now();
 * const trace: Trace = {
 *   dnsAnswer: ({ family, addrs }: DNSAnswerInfo) => {
 *     const ms = (performance.now() - start).toFixed(1);
 *     console.log(`IPv${family}: ${addrs.length} addresses after ${ms} ms`);
 *   },
 * };
 * ```
 */
export interface DNSAnswerInfo {
  /** The host as dialled. */
  host: string;
  /**
   * The family this answer is for (A: 4, AAAA: 6), or `"service"` for the
   * service (HTTPS/SVCB) query of a dial with the `service` option (one per
   * answer of its alias chain).
   */
  family: Family | "service";
  /** The addresses of this family, this caller's own copy; may be empty. */
  addrs: IPAddr[];
  /**
   * True when the lookup (or service query) was shared with another
   * concurrent dial — for every dial that shared it, the first included,
   * as in Go.
   */
  coalesced: boolean;
  /** True when the answer came from a cache. */
  cached: boolean;
  /**
   * Set when this family's lookup failed; for `"service"`, also when its
   * AliasMode chain loops or is too long.
   */
  error?: Error;
  /**
   * For `"service"`: the records of the answer (AliasMode ones too), this
   * caller's own copy; empty when the name has none or the query failed.
   */
  records?: ServiceRecord[];
  /**
   * The name asked, when it is not simply the dialled host's A/AAAA: for
   * `"service"`, the host or an alias target; for `4`/`6`, a service
   * record's target name whose addresses were looked up (Happy Eyeballs
   * v3; such answers are not part of `dnsDone`). Unset for the host's own
   * A/AAAA answers.
   */
  name?: string;
}

/**
 * The service (SVCB/HTTPS) record an endpoint came from (Happy Eyeballs
 * v3), as {@linkcode ConnectStartInfo.service} and
 * {@linkcode DialDoneInfo.service} report it.
 *
 * @example Logging which service record each attempt used
 * ```ts
 * import type { ServiceEndpointInfo, Trace } from "@nettrace/nettrace";
 *
 * function describe(service: ServiceEndpointInfo): string {
 *   return `priority ${service.priority} ${service.target}:${service.port}`;
 * }
 * const trace: Trace = {
 *   connectStart: ({ addr, service, hint }) => {
 *     const from = service === undefined ? "A/AAAA" : describe(service);
 *     console.log(addr, from, hint ? "(hint)" : "");
 *   },
 * };
 * ```
 */
export interface ServiceEndpointInfo {
  /** The record's SvcPriority (≥ 1). */
  priority: number;
  /** The record's TargetName as given (`"."`: the owner name). */
  target: string;
  /** The port dialled: the record's `port`, else the caller's. */
  port: number;
  /**
   * The ALPN protocols the TLS handshake offers on this endpoint: the
   * record's SVCB ALPN set intersected with `tls.alpnProtocols`. Unset
   * when none is offered.
   */
  alpn?: string[];
  /**
   * The record's `ech` (an ECHConfigList), passed through: no runtime can
   * use it for Encrypted Client Hello yet.
   */
  ech?: Uint8Array;
}

/**
 * What {@linkcode Trace.dialStart} receives.
 *
 * @example Counting dials per address
 * ```ts
 * import type { DialStartInfo, Trace } from "@nettrace/nettrace";
 *
 * const dials = new Map<string, number>();
 * const trace: Trace = {
 *   dialStart: ({ address }: DialStartInfo) => {
 *     dials.set(address, (dials.get(address) ?? 0) + 1);
 *   },
 * };
 * ```
 */
export interface DialStartInfo {
  /** The network as the user gave it. */
  network: Network;
  /** The address as the user gave it (`host:port`). */
  address: string;
}

/**
 * What {@linkcode Trace.dialDone} receives.
 *
 * @example Logging where each dial ended up
 * ```ts
 * import type { DialDoneInfo, Trace } from "@nettrace/nettrace";
 *
 * const trace: Trace = {
 *   dialDone: ({ address, addr, error }: DialDoneInfo) => {
 *     console.log(address, error === undefined ? `→ ${addr}` : error.message);
 *   },
 * };
 * ```
 */
export interface DialDoneInfo {
  /** The network as the user gave it. */
  network: Network;
  /** The address as the user gave it. */
  address: string;
  /** The endpoint connected to (`ip:port`); unset when the dial failed. */
  addr?: string;
  /** The connected endpoint's family; unset when the dial failed. */
  family?: Family;
  /** The winning attempt's index; unset when the dial failed. */
  attempt?: number;
  /**
   * Happy Eyeballs v3: the service record the winner came from (its
   * `ech` included); unset when it was one of the host's own addresses.
   */
  service?: ServiceEndpointInfo;
  /** Unset on success; the dial's error (what it rejects with). */
  error?: Error;
}

/**
 * What {@linkcode Trace.tlsHandshakeStart} receives.
 *
 * @example Logging the name each handshake verifies
 * ```ts
 * import type { Trace, TLSHandshakeStartInfo } from "@nettrace/nettrace";
 *
 * const trace: Trace = {
 *   tlsHandshakeStart: ({ serverName, addr }: TLSHandshakeStartInfo) => {
 *     console.log(`TLS with ${addr} as ${serverName}`);
 *   },
 * };
 * ```
 */
export interface TLSHandshakeStartInfo {
  /** The name (or IP address) the certificate is checked against. */
  serverName: string;
  /** The endpoint, `ip:port`. */
  addr: string;
  /** The endpoint's family. */
  family: Family;
  /** The attempt whose connection the handshake runs on. */
  attempt: number;
}

/**
 * What {@linkcode Trace.tlsHandshakeDone} receives.
 *
 * @example Logging the negotiated protocol
 * ```ts
 * import type { Trace, TLSHandshakeDoneInfo } from "@nettrace/nettrace";
 *
 * const trace: Trace = {
 *   tlsHandshakeDone: ({ alpnProtocol, error }: TLSHandshakeDoneInfo) => {
 *     console.log(error?.message ?? `ALPN: ${alpnProtocol ?? "none"}`);
 *   },
 * };
 * ```
 */
export interface TLSHandshakeDoneInfo {
  /** The name (or IP address) the certificate was checked against. */
  serverName: string;
  /** The endpoint, `ip:port`. */
  addr: string;
  /** The endpoint's family. */
  family: Family;
  /** The attempt whose connection the handshake ran on. */
  attempt: number;
  /** The negotiated ALPN protocol (`null`: none); unset on failure. */
  alpnProtocol?: string | null;
  /** The TLS version when the runtime tells (`"TLSv1.3"`). */
  tlsVersion?: string;
  /**
   * Unset on success; a `TLSError`, or why the handshake was given up
   * (the attempt lost, the dial was aborted or timed out).
   */
  error?: Error;
}

/**
 * What {@linkcode Trace.connectStart} receives.
 *
 * @example Logging each attempt and why it went when it did
 * ```ts
 * import type { ConnectStartInfo, Trace } from "@nettrace/nettrace";
 *
 * function connectStart(info: ConnectStartInfo): void {
 *   const why = info.sortedBy === undefined ? "" : `, ${info.sortedBy}`;
 *   console.log(`attempt ${info.attempt}: ${info.addr} (${info.cause}${why})`);
 * }
 * const trace: Trace = { connectStart };
 * ```
 */
export interface ConnectStartInfo {
  /** The network as the user gave it (`"tcp"`, not `"tcp6"`). */
  network: Network;
  /** `ip:port` or `[ipv6%zone]:port`. */
  addr: string;
  /** The endpoint's family. */
  family: Family;
  /** This attempt's index in the dial, from 0. */
  attempt: number;
  /** Why the attempt started now. */
  cause: AttemptCause;
  /**
   * Why this endpoint went before the next one still untried: the RFC 6724
   * §6 / RFC 8305 §4 rule that ordered the two (`"avoid-failed"`,
   * `"precedence"`, …; `"order"` when none did and the answer order
   * stood), or `"family"` when the family interleaving of RFC 8305 §4 put
   * it here. Unset when nothing else was left to try.
   */
  sortedBy?: OrderRule | "family";
  /**
   * What the dialer's connection history knew of this address (RFC 8305
   * §4). Unset when it knew nothing or history is off.
   */
  history?: HistoryRecord;
  /**
   * The Connection Attempt Delay armed after this start, in ms, when it was
   * derived from this address's measured connect time (RFC 8305 §5).
   * Unset when it is `attemptDelay`.
   */
  historyDelay?: number;
  /**
   * Source(D), the source address the system would use (RFC 6724), when it
   * was probed; `null` when the system has no route to the address.
   */
  source?: SourceAddress | null;
  /**
   * For a NAT64 address (synthesised by the dial, or by DNS64 under a
   * known prefix): the IPv4 address it stands for (RFC 8305 §7).
   */
  nat64?: string;
  /**
   * Happy Eyeballs v3 (a dial with `service`): the service record the
   * endpoint came from. Unset for the host's own A/AAAA addresses.
   */
  service?: ServiceEndpointInfo;
  /**
   * With `service`: true when the address is the record's
   * `ipv4hint`/`ipv6hint`, not (yet) an A/AAAA answer.
   */
  hint?: boolean;
}

/**
 * What {@linkcode Trace.connectDone} receives.
 *
 * @example Collecting the attempts that failed
 * ```ts
 * import type { ConnectDoneInfo, Trace } from "@nettrace/nettrace";
 *
 * const failed: ConnectDoneInfo[] = [];
 * const trace: Trace = {
 *   connectDone: (info) => {
 *     if (info.error !== undefined) failed.push(info);
 *   },
 * };
 * ```
 */
export interface ConnectDoneInfo {
  /** The network as the user gave it. */
  network: Network;
  /** `ip:port` or `[ipv6%zone]:port`. */
  addr: string;
  /** The endpoint's family. */
  family: Family;
  /** This attempt's index in the dial, from 0. */
  attempt: number;
  /** Unset on success; the failure, or why a loser was cancelled/closed. */
  error?: Error;
}

/**
 * Hooks called as a dial progresses; every one is optional. Hooks run
 * synchronously in the dial's flow: keep them short. A hook that throws (or
 * returns a promise that rejects) never changes the dial's outcome; the error
 * goes to the handler set with {@linkcode setHookErrorHandler}.
 *
 * @example Logging a dial
 * ```ts
 * import type { Trace } from "@nettrace/nettrace";
 *
 * const trace: Trace = {
 *   dnsStart: ({ host }) => console.log("lookup", host),
 *   dnsDone: ({ addrs, coalesced }) => console.log(addrs, { coalesced }),
 *   connectStart: ({ addr }) => console.log("connect", addr),
 *   connectDone: ({ addr, error }) => console.log(addr, error ?? "ok"),
 * };
 * ```
 */
export interface Trace {
  /**
   * A dial starts (after its arguments were checked); before any other
   * hook of the dial.
   */
  dialStart?(info: DialStartInfo): void;
  /**
   * A dial of a host name starts its lookup; once per dial, also when the
   * lookup ends up shared; never for IP literals. With `service`, the
   * service query and the lookups of its target names come under this one
   * `dnsStart` (none of their own).
   */
  dnsStart?(info: DNSStartInfo): void;
  /**
   * Exactly once per `dnsStart`: when both families have answered, or when
   * the dial finished or was aborted first, with what had arrived.
   */
  dnsDone?(info: DNSDoneInfo): void;
  /**
   * One family's lookup settled (at most once per family per dial, before
   * `dnsDone`); not for IP literals, nor for a lookup the dial gave up.
   * With `service` also each service answer (`family: "service"`) and each
   * lookup of a service target's addresses (`name` set), which may come
   * after `dnsDone`.
   */
  dnsAnswer?(info: DNSAnswerInfo): void;
  /** Once per attempted endpoint, as the attempt starts. */
  connectStart?(info: ConnectStartInfo): void;
  /**
   * Once per attempted endpoint, when its TCP connect succeeds, fails or is
   * cancelled (with `successPoint: "tls"` a handshake may follow).
   */
  connectDone?(info: ConnectDoneInfo): void;
  /**
   * A TLS handshake starts: on the winner's connection, or with
   * `successPoint: "tls"` on every attempt's that connected.
   */
  tlsHandshakeStart?(info: TLSHandshakeStartInfo): void;
  /** Exactly once per `tlsHandshakeStart`. */
  tlsHandshakeDone?(info: TLSHandshakeDoneInfo): void;
  /** Exactly once per `dialStart`, as the dial resolves or rejects. */
  dialDone?(info: DialDoneInfo): void;
}

/**
 * The names of the hooks of a {@linkcode Trace}.
 *
 * @example Remembering which hooks threw
 * ```ts
 * import { type HookName, setHookErrorHandler } from "@nettrace/nettrace";
 *
 * const broken = new Set<HookName>();
 * const previous = setHookErrorHandler((_error, hook) => {
 *   broken.add(hook);
 * });
 * setHookErrorHandler(previous);
 * ```
 */
export type HookName = keyof Trace;

const HOOKS: readonly HookName[] = [
  "dialStart",
  "dnsStart",
  "dnsAnswer",
  "dnsDone",
  "connectStart",
  "connectDone",
  "tlsHandshakeStart",
  "tlsHandshakeDone",
  "dialDone",
];

/**
 * The hooks of traces layered on {@linkcode Trace} that `withTrace`
 * composes as well: Go's `httptrace.ClientTrace` (the `HTTPTrace` of
 * `@nettrace/nettrace/fetch`). Only their names live in the core.
 */
const LAYERED_HOOKS: readonly string[] = [
  "getConn",
  "gotConn",
  "putIdleConn",
  "wroteHeaderField",
  "wroteHeaders",
  "wait100Continue",
  "got100Continue",
  "got1xxResponse",
  "wroteRequest",
  "gotFirstResponseByte",
];

const COMPOSED_HOOKS = [...HOOKS, ...LAYERED_HOOKS] as readonly HookName[];

/**
 * The key the trace lives under on a context.
 *
 * @example Reading the raw value
 * ```ts
 * import { background, TraceKey } from "@nettrace/nettrace";
 *
 * console.log(background.value(TraceKey)); // undefined
 * ```
 */
export const TraceKey: ContextKey<Trace> = createContextKey<Trace>(
  "nettrace.Trace",
);

/**
 * A resolver stored under this key replaces the dial's resolver, like Go's
 * `nettrace.LookupIPAltResolverKey` (used by tests and by code that must send
 * one call chain's lookups elsewhere).
 *
 * @example Sending lookups to another resolver
 * ```ts
 * import {
 *   background,
 *   LookupIPAltResolverKey,
 *   type Resolver,
 *   withValue,
 * } from "@nettrace/nettrace";
 *
 * const fixed: Resolver = {
 *   lookup: (_host, family) =>
 *     Promise.resolve(family === 4 ? [{ address: "127.0.0.1", family: 4 }] : []),
 * };
 * const ctx = withValue(background, LookupIPAltResolverKey, fixed);
 * ```
 */
export const LookupIPAltResolverKey: ContextKey<Resolver> = createContextKey<
  Resolver
>("nettrace.LookupIPAltResolver");

/**
 * Called with the error of a hook that threw.
 *
 * @param error What the hook threw or its promise rejected with.
 * @param hook The hook's name.
 *
 * @example Reporting hook errors as warnings
 * ```ts
 * import {
 *   type HookErrorHandler,
 *   setHookErrorHandler,
 * } from "@nettrace/nettrace";
 *
 * const warn: HookErrorHandler = (error, hook) => {
 *   console.warn(`the ${hook} trace hook failed:`, error);
 * };
 * const previous = setHookErrorHandler(warn);
 * setHookErrorHandler(previous);
 * ```
 */
export type HookErrorHandler = (error: unknown, hook: HookName) => void;

function defaultHookErrorHandler(error: unknown, hook: HookName): void {
  console.error(`nettrace: the ${hook} trace hook threw:`, error);
}

let hookErrorHandler: HookErrorHandler = defaultHookErrorHandler;

/**
 * Sets where errors thrown by trace hooks go. By default they are printed
 * with `console.error`; they never change a dial's outcome.
 *
 * @param handler The handler, or `undefined` for the default.
 * @returns The handler that was set before.
 *
 * @example Counting hook failures
 * ```ts
 * import { setHookErrorHandler } from "@nettrace/nettrace";
 *
 * let failures = 0;
 * const previous = setHookErrorHandler(() => failures++);
 * setHookErrorHandler(previous);
 * ```
 */
export function setHookErrorHandler(
  handler: HookErrorHandler | undefined,
): HookErrorHandler {
  const previous = hookErrorHandler;
  hookErrorHandler = handler ?? defaultHookErrorHandler;
  return previous;
}

/**
 * Reports a hook's error; a throwing handler is itself reported by default.
 *
 * @internal
 */
export function reportHookError(error: unknown, hook: HookName): void {
  try {
    hookErrorHandler(error, hook);
  } catch (handlerError) {
    defaultHookErrorHandler(handlerError, hook);
  }
}

/**
 * Calls one hook with isolation: a throw or a rejected promise is reported,
 * never propagated.
 *
 * @internal
 */
export function callHook<K extends HookName>(
  trace: Trace,
  hook: K,
  info: Parameters<NonNullable<Trace[K]>>[0],
): void {
  const fn = trace[hook] as ((info: unknown) => unknown) | undefined;
  if (fn === undefined) return;
  try {
    const result = fn.call(trace, info);
    if (
      result !== null && typeof result === "object" &&
      typeof (result as PromiseLike<unknown>).then === "function"
    ) {
      (result as PromiseLike<unknown>).then(
        undefined,
        (error: unknown) => reportHookError(error, hook),
      );
    }
  } catch (error) {
    reportHookError(error, hook);
  }
}

function compose(newer: Trace, older: Trace): Trace {
  const composed: Trace = {};
  for (const hook of COMPOSED_HOOKS) {
    const a = newer[hook];
    const b = older[hook];
    if (a === undefined && b === undefined) continue;
    if (a === undefined || b === undefined) {
      const only = a === undefined ? older : newer;
      // Keep `this` bound to the trace object that owns the hook.
      (composed as Record<HookName, unknown>)[hook] = (info: unknown) =>
        callHook(only, hook, info as never);
      continue;
    }
    (composed as Record<HookName, unknown>)[hook] = (info: unknown) => {
      callHook(newer, hook, info as never);
      callHook(older, hook, info as never);
    };
  }
  return composed;
}

/**
 * Returns a child of `parent` carrying `trace`. If `parent` already has a
 * trace, the two compose: `trace`'s hook runs first, then the older one —
 * each isolated from the other's errors (Go's `httptrace.WithClientTrace`).
 *
 * @param parent The context to extend.
 * @param trace The hooks.
 * @returns The new context.
 *
 * @example Two layers of tracing
 * ```ts
 * import { background, contextTrace, withTrace } from "@nettrace/nettrace";
 *
 * const order: string[] = [];
 * const inner = withTrace(background, { dnsStart: () => order.push("old") });
 * const outer = withTrace(inner, { dnsStart: () => order.push("new") });
 * contextTrace(outer)?.dnsStart?.({ host: "example.test" });
 * console.log(order); // ["new", "old"]
 * ```
 */
export function withTrace(parent: Context, trace: Trace): Context {
  const older = parent.value(TraceKey);
  return withValue(
    parent,
    TraceKey,
    older === undefined ? trace : compose(trace, older),
  );
}

/**
 * The trace on a context.
 *
 * @param ctx The context.
 * @returns The (composed) trace, or `undefined` when there is none.
 *
 * @example Checking for a trace
 * ```ts
 * import { background, contextTrace } from "@nettrace/nettrace";
 *
 * console.log(contextTrace(background)); // undefined
 * ```
 */
export function contextTrace(ctx: Context): Trace | undefined {
  return ctx.value(TraceKey);
}

/**
 * Every trace hook, in the order a dial fires them (the list the core
 * composes traces by); for the adapters, whose diagnostics channels
 * publish the same hooks.
 *
 * @internal
 *
 * @example Listing the hooks
 * ```ts ignore
 * import { HOOK_NAMES } from "./trace.ts";
 *
 * console.log(HOOK_NAMES[0]); // "dialStart"
 * ```
 */
export const HOOK_NAMES: readonly HookName[] = HOOKS;
