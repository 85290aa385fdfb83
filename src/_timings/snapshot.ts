/**
 * The snapshot: what a `TimingLog` (record.ts) noted, as the plain
 * {@linkcode DialTimings} that `recorder.timings()` returns — the phases
 * (lookup, connect, TLS), curl's cumulative times and one copy per
 * attempt. Pure: it reads the log's state and builds new objects.
 *
 * @module
 */

import type { Family, Network } from "../types.ts";
import type {
  AttemptTiming,
  AttemptTimingOutcome,
  AttemptTLSTiming,
  ConnectTiming,
  CurlTimings,
  DialTimings,
  LookupTiming,
  TLSTiming,
} from "./types.ts";

/**
 * What the log keeps of one connection attempt while the dial runs (the
 * public {@linkcode AttemptTiming} is made from it by the snapshot). Not
 * the dial driver's own attempt state, which src/dial.ts keeps.
 */
export interface LoggedAttempt extends Omit<AttemptTiming, "won" | "tls"> {
  /** The error itself, to tell the dial's own abort reason. */
  raw?: Error;
  tls?: LoggedHandshake;
}

/** What the log keeps of one attempt's TLS handshake. */
export interface LoggedHandshake extends AttemptTLSTiming {
  serverName: string;
  raw?: Error;
}

/** Everything the log noted; the snapshot reads it, never changes it. */
export interface LogState {
  done: boolean;
  address?: string;
  network?: Network;
  lookup?: LookupTiming;
  /** By attempt index; holes for attempts whose start was not seen. */
  attempts: LoggedAttempt[];
  total?: number;
  error?: string;
  /** The dial's error itself, to tell its own abort reason. */
  dialError?: Error;
  winner?: number;
  addr?: string;
  family?: Family;
}

/** The breakdown of what `state` holds so far. */
export function snapshot(state: LogState): DialTimings {
  const { done, total, error } = state;
  const failed = done && error !== undefined;
  const result: DialTimings = {
    outcome: !done ? "pending" : failed ? "failed" : "connected",
    curl: {},
    attempts: [],
  };
  if (state.address !== undefined) result.address = state.address;
  if (state.network !== undefined) result.network = state.network;
  if (error !== undefined) result.error = error;
  if (state.addr !== undefined) result.addr = state.addr;
  if (state.family !== undefined) result.family = state.family;

  const attempts = state.attempts.filter((a) => a !== undefined);
  const lead = leadOf(state, attempts);
  if (state.lookup !== undefined) result.lookup = lookupCopy(state.lookup);
  if (attempts.length > 0) result.connect = connectOf(state, attempts, lead);
  const tls = tlsOf(state, lead);
  if (tls !== undefined) result.tls = tls;
  if (total !== undefined) result.total = total;
  result.curl = curlOf(state, lead);
  result.attempts = attempts.map((a) => attemptCopy(state, a));
  return result;
}

/**
 * The attempt the connect and TLS phases describe: the dial's winner;
 * before the dial says (or when it failed), the first attempt whose
 * handshake completed, else the first whose TCP connect did (with
 * `successPoint: "tcp"`, the race's winner even when its handshake then
 * failed).
 */
function leadOf(
  state: LogState,
  attempts: LoggedAttempt[],
): LoggedAttempt | undefined {
  if (state.winner !== undefined) {
    const won = state.attempts[state.winner];
    if (won !== undefined) return won;
  }
  let lead: LoggedAttempt | undefined;
  for (const a of attempts) {
    if (a.tls?.outcome !== "connected") continue;
    if (lead === undefined || a.tls.end! < lead.tls!.end!) lead = a;
  }
  if (lead !== undefined) return lead;
  for (const a of attempts) {
    if (a.outcome !== "connected") continue;
    if (lead === undefined || a.end! < lead.end!) lead = a;
  }
  return lead;
}

function lookupCopy(lookup: LookupTiming): LookupTiming {
  const copy: LookupTiming = { ...lookup };
  if (lookup.ipv4 !== undefined) copy.ipv4 = { ...lookup.ipv4 };
  if (lookup.ipv6 !== undefined) copy.ipv6 = { ...lookup.ipv6 };
  return copy;
}

function connectOf(
  state: LogState,
  attempts: LoggedAttempt[],
  lead: LoggedAttempt | undefined,
): ConnectTiming {
  const start = Math.min(...attempts.map((a) => a.start));
  const connect: ConnectTiming = { start };
  if (lead !== undefined && lead.outcome === "connected") {
    connect.end = lead.end!;
  } else if (state.done) {
    connect.end = state.total;
    if (state.error !== undefined) connect.error = state.error;
  }
  return connect;
}

/** The lead attempt's handshake as the dial's TLS phase. */
function tlsOf(
  state: LogState,
  lead: LoggedAttempt | undefined,
): TLSTiming | undefined {
  const handshake = lead?.tls;
  if (lead === undefined || handshake === undefined) return undefined;
  const tls: TLSTiming = {
    attempt: lead.attempt,
    serverName: handshake.serverName,
    start: handshake.start,
  };
  if (handshake.end !== undefined) tls.end = handshake.end;
  else if (state.done) tls.end = state.total;
  if (handshake.alpnProtocol !== undefined) {
    tls.alpnProtocol = handshake.alpnProtocol;
  }
  if (handshake.tlsVersion !== undefined) {
    tls.tlsVersion = handshake.tlsVersion;
  }
  if (handshake.error !== undefined) tls.error = handshake.error;
  else if (
    handshake.end === undefined && state.done && state.error !== undefined
  ) {
    tls.error = state.error;
  }
  return tls;
}

/** curl's cumulative numbers. */
function curlOf(
  state: LogState,
  lead: LoggedAttempt | undefined,
): CurlTimings {
  const curl: CurlTimings = {};
  if (state.lookup !== undefined) {
    const namelookup = namelookupOf(state, state.lookup, lead);
    if (namelookup !== undefined) curl.namelookup = namelookup;
  }
  if (lead !== undefined && lead.outcome === "connected") {
    curl.connect = lead.end!;
  }
  if (lead?.tls?.outcome === "connected") curl.appconnect = lead.tls.end!;
  if (state.total !== undefined) curl.total = state.total;
  return curl;
}

/**
 * When the address the dial connected to was known: the winner's
 * family's answer (no later than the winner's start); else (a NAT64
 * address made from the other family's, or no winner) the first answer
 * that carried addresses; else, when attempts started on addresses no
 * `dnsAnswer` brought, the lookup's end.
 */
function namelookupOf(
  state: LogState,
  lookup: LookupTiming,
  lead: LoggedAttempt | undefined,
): number | undefined {
  const connected = lead?.outcome === "connected" ? lead : undefined;
  if (connected !== undefined) {
    const own = connected.family === 4 ? lookup.ipv4 : lookup.ipv6;
    if (own !== undefined && own.count > 0 && own.end <= connected.start) {
      return own.end;
    }
  }
  const ends = [lookup.ipv4, lookup.ipv6]
    .filter((a) => a !== undefined && a.count > 0)
    .map((a) => a!.end);
  if (ends.length > 0) return Math.min(...ends);
  // Attempts started: addresses came, through dnsDone only.
  return state.attempts.length > 0 ? lookup.end : undefined;
}

function attemptCopy(state: LogState, a: LoggedAttempt): AttemptTiming {
  const copy: AttemptTiming = {
    attempt: a.attempt,
    addr: a.addr,
    family: a.family,
    cause: a.cause,
    start: a.start,
    outcome: outcomeIn(state, a),
    won: state.winner === a.attempt,
  };
  if (a.end !== undefined) copy.end = a.end;
  if (a.error !== undefined) copy.error = a.error;
  if (a.tls !== undefined) {
    const tls: AttemptTLSTiming = {
      start: a.tls.start,
      outcome: outcomeIn(state, a.tls),
    };
    if (a.tls.end !== undefined) tls.end = a.tls.end;
    if (a.tls.alpnProtocol !== undefined) {
      tls.alpnProtocol = a.tls.alpnProtocol;
    }
    if (a.tls.tlsVersion !== undefined) tls.tlsVersion = a.tls.tlsVersion;
    if (a.tls.error !== undefined) tls.error = a.tls.error;
    copy.tls = tls;
  }
  return copy;
}

/**
 * A record's outcome; one that ended with the very error the dial
 * rejected with (the abort reason given to its signal) was cancelled.
 */
function outcomeIn(
  state: LogState,
  record: LoggedAttempt | LoggedHandshake,
): AttemptTimingOutcome {
  if (
    record.outcome === "failed" && record.raw !== undefined &&
    record.raw === state.dialError
  ) return "cancelled";
  return record.outcome;
}
