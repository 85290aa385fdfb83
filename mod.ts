/**
 * nettrace dials TCP the way Go's `net.Dialer` does — trace hooks carried on
 * a context, singleflight-coalesced DNS and RFC 8305 Happy Eyeballs — on
 * Deno, Bun and Node.
 *
 * Start with {@linkcode dial} from the adapter of your runtime: it is this
 * module's `dial` bound to the runtime's resolver and sockets, and each
 * adapter re-exports everything here, so one import is enough:
 *
 * - `@nettrace/nettrace/deno` — `Deno.connect`, returns a `Deno.TcpConn`
 * - `@nettrace/nettrace/bun` — `Bun.connect`, returns a `BunConn`
 * - `@nettrace/nettrace/node` — `net.connect`, returns a `NodeConn`
 *
 * Then, as you need them: `trace` hooks on a dial or a context
 * ({@linkcode withTrace}, {@linkcode runWithContext}), `tls` options,
 * {@linkcode recordTimings} for a curl-like breakdown,
 * {@linkcode cachingResolver} for a DNS cache, and the integrations
 * `@nettrace/nettrace/otel` (OpenTelemetry spans) and
 * `@nettrace/nettrace/undici` (fetch on Node).
 *
 * This entry point itself is the runtime-neutral core, written against a
 * {@linkcode Resolver}, a {@linkcode Dialer} and a {@linkcode Clock}, so it
 * runs anywhere and a test drives a whole dial on a virtual clock.
 *
 * @example Seeing why a dial was slow
 * ```ts ignore
 * import { dial } from "@nettrace/nettrace/deno"; // or /bun, /node
 *
 * const conn = await dial("localhost:5432", {
 *   timeout: 5_000,
 *   trace: {
 *     dnsDone: ({ addrs, coalesced }) => console.log("dns", addrs, coalesced),
 *     connectStart: ({ addr }) => console.log("trying", addr),
 *     connectDone: ({ addr, error }) => console.log(addr, error?.message ?? "ok"),
 *   },
 * });
 * conn.close();
 * ```
 *
 * @module
 */

export {
  type CoreDialOptions,
  dial,
  dialerHistory,
  type DialOptions,
  type SourceAddressProbe,
} from "./src/dial.ts";
export {
  type Clock,
  type Conn,
  type ConnectOptions,
  type Dialer,
  type Endpoint,
  type Family,
  type IPAddr,
  type LookupOptions,
  type LookupServiceOptions,
  type NetAddr,
  type Network,
  type Resolver,
  type ServiceRecord,
  type StartTLSOptions,
  systemClock,
  type TLSConn,
  type TLSOptions,
  type TLSResult,
} from "./src/types.ts";
export {
  formatEndpoint,
  joinHostPort,
  parseIP,
  parsePort,
  splitHostPort,
} from "./src/address.ts";
export {
  background,
  type Context,
  type ContextKey,
  type ContextStorage,
  createContextKey,
  currentContext,
  hasContextStorage,
  runWithContext,
  setContextStorage,
  withSignal,
  withValue,
} from "./src/context.ts";
export {
  type AttemptCause,
  type ConnectDoneInfo,
  type ConnectStartInfo,
  contextTrace,
  type DialDoneInfo,
  type DialStartInfo,
  type DNSAnswerInfo,
  type DNSDoneInfo,
  type DNSStartInfo,
  type HookErrorHandler,
  type HookName,
  LookupIPAltResolverKey,
  type ServiceEndpointInfo,
  setHookErrorHandler,
  type TLSHandshakeDoneInfo,
  type TLSHandshakeStartInfo,
  type Trace,
  TraceKey,
  withTrace,
} from "./src/trace.ts";
export { dialedService } from "./src/dialed_service.ts";
export {
  Singleflight,
  type SingleflightDoOptions,
  type SingleflightResult,
} from "./src/singleflight.ts";
export {
  DEFAULT_ATTEMPT_DELAY,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_CONCURRENT_ATTEMPTS,
  DEFAULT_RESOLUTION_DELAY,
  HappyEyeballs,
  type HappyEyeballsAction,
  type HappyEyeballsEvent,
  type HappyEyeballsOptions,
  type HappyEyeballsState,
  MAX_ATTEMPT_DELAY,
  MIN_ATTEMPT_DELAY,
  type RankedEndpoint,
} from "./src/happy_eyeballs.ts";
export {
  AddrError,
  DialError,
  DNSError,
  type DNSErrorOptions,
  OpError,
  type OpErrorOptions,
  SyscallError,
  TLSError,
  type TLSErrorKind,
  type TLSErrorOptions,
} from "./src/errors.ts";
export {
  type AddressClass,
  classifyAddress,
  type Control,
  type ControlInfo,
  PolicyError,
  publicAddressesOnly,
  type PublicAddressesOnlyOptions,
} from "./src/policy.ts";
export {
  addressScope,
  compareDestinations,
  DEFAULT_POLICY_TABLE,
  type Destination,
  type OrderRule,
  orderRule,
  type PolicyEntry,
  policyOf,
  PREFER_IPV4_POLICY_TABLE,
  sortDestinations,
  type SortOptions,
  type SourceAddress,
} from "./src/rfc6724.ts";
export {
  attemptDelayFromConnectTime,
  type AttemptOutcome,
  DEFAULT_HISTORY_MAX_ENTRIES,
  DEFAULT_HISTORY_MIN_ATTEMPT_DELAY,
  DEFAULT_HISTORY_TTL,
  type HistoryKey,
  type HistoryRecord,
  HistoryStore,
  type HistoryStoreOptions,
  type HistoryUpdate,
} from "./src/history.ts";
export {
  canSynthesizeNat64,
  discoverNat64Prefixes,
  extractNat64,
  IPV4ONLY_ARPA,
  NAT64_WELL_KNOWN_PREFIX,
  nat64Embedded,
  type Nat64Prefix,
  type Nat64PrefixLength,
  parseNat64Prefix,
  synthesizeNat64,
} from "./src/nat64.ts";
export {
  type CachingResolver,
  cachingResolver,
  type CachingResolverOptions,
  type DNSCacheStats,
} from "./src/dns_cache.ts";
export {
  type AttemptTiming,
  type AttemptTimingOutcome,
  type AttemptTLSTiming,
  type ConnectTiming,
  type CurlTimings,
  type DialOutcome,
  type DialTimings,
  type FamilyLookupTiming,
  formatTimings,
  type LookupTiming,
  recordTimings,
  type RecordTimingsOptions,
  type TimingRecorder,
  type TLSTiming,
} from "./src/timings.ts";
