/**
 * The events of one dial as the demo shows them (its timeline, waterfall
 * and JSON), made from what the core's recorder (`recordTimings()`) noted,
 * so that the timeline and the breakdown read the same times; the few
 * things the recorder does not keep (the answers' addresses, why each
 * attempt went where it did) come from {@linkcode DialNotes}.
 *
 * @module
 */

import type {
  AttemptCause,
  AttemptTiming,
  AttemptTimingOutcome,
  DialTimings,
  Family,
  HistoryRecord,
  OrderRule,
} from "../mod.ts";

/** How an attempt or a handshake ended, in the words the demo prints. */
export type Outcome =
  | "connected"
  | "cancelled"
  | "refused"
  | "reset"
  | "timed out"
  | "unreachable"
  | "failed";

/**
 * What the connection history knew of an address, `age` ms before the
 * moment it was read (`connectTime`: the latest measured connect, in ms).
 */
export interface Known {
  outcome: HistoryRecord["outcome"];
  connectTime?: number;
  used: boolean;
  age: number;
}

/** One address in the history snapshot taken as a dial starts. */
export interface KnownAddress extends Known {
  address: string;
}

/** One thing that happened, `t` ms after the dial started. */
export type DemoEvent =
  | { t: number; type: "dnsStart"; host: string }
  | {
    t: number;
    type: "dnsAnswer";
    family: Family;
    addrs: string[];
    error?: string;
    /** Not answered before the dial ended: no longer needed. */
    givenUp?: true;
  }
  | {
    t: number;
    type: "dnsDone";
    addrs: string[];
    coalesced: boolean;
    error?: string;
  }
  | {
    t: number;
    type: "connectStart";
    attempt: number;
    addr: string;
    family: Family;
    cause: AttemptCause;
    /** The RFC 6724 / RFC 8305 §4 rule that put it before the next one. */
    sortedBy?: OrderRule | "family";
    /** What the connection history knew of this address. */
    history?: Known;
    /** The attempt delay after this start, when history derived it. */
    historyDelay?: number;
    /** The probed source address; null: no route. */
    source?: string | null;
    /** The IPv4 address this NAT64 address stands for. */
    nat64?: string;
  }
  | {
    t: number;
    type: "connectDone";
    attempt: number;
    addr: string;
    family: Family;
    outcome: Outcome;
    error?: string;
  }
  | {
    t: number;
    type: "tlsStart";
    attempt: number;
    addr: string;
    serverName: string;
  }
  | {
    t: number;
    type: "tlsDone";
    attempt: number;
    addr: string;
    outcome: Outcome;
    alpnProtocol?: string | null;
    tlsVersion?: string;
    error?: string;
  }
  | { t: number; type: "won"; attempt: number; addr: string; family: Family }
  | { t: number; type: "failed"; error: string; errors: string[] };

/** A history record as the demo shows it; `now` on the dial's clock. */
export function knownOf(record: HistoryRecord, now: number): Known {
  return {
    outcome: record.outcome,
    ...(record.connectTime === undefined
      ? {}
      : { connectTime: Math.round(record.connectTime * 10) / 10 }),
    used: record.used,
    age: Math.max(0, Math.round(now - record.at)),
  };
}

/** What an attempt began with that the recorder does not keep. */
export type StartNotes = Pick<
  Extract<DemoEvent, { type: "connectStart" }>,
  "sortedBy" | "history" | "historyDelay" | "source" | "nat64"
>;

/** What the demo notes beside the recorder, from the same hooks. */
export interface DialNotes {
  /** Each family's answer, as addresses. */
  answers: Map<Family, string[]>;
  /** dnsDone's addresses; unset until it fired. */
  done?: { addrs: string[] };
  /** By attempt index. */
  starts: Map<number, StartNotes>;
  /** The name each attempt's certificate was checked against. */
  serverNames: Map<number, string>;
}

/** How the dial itself ended, as the demo saw its promise settle. */
export type DialEnd =
  | { type: "won"; t: number }
  | { type: "failed"; t: number; error: string; errors: string[] };

/**
 * An attempt's or a handshake's outcome in words: a failure by its error
 * (refused, reset, timed out, unreachable); undefined while pending.
 */
export function outcomeText(
  outcome: AttemptTimingOutcome,
  error: string | undefined,
): Outcome | undefined {
  if (outcome === "pending") return undefined;
  if (outcome !== "failed") return outcome;
  const text = error ?? "";
  if (text.includes("connection refused")) return "refused";
  if (text.includes("connection reset")) return "reset";
  if (text.includes("timed out") || text.includes("timeout")) {
    return "timed out";
  }
  if (text.includes("unreachable") || text.includes("no route")) {
    return "unreachable";
  }
  return "failed";
}

/** Every event of one dial, in time order. */
export function eventsOf(
  t: DialTimings,
  notes: DialNotes,
  end: DialEnd,
): DemoEvent[] {
  const events: DemoEvent[] = [...lookupEvents(t, notes)];
  for (const a of t.attempts) events.push(...attemptEvents(a, notes));
  const won = t.attempts.find((a) => a.won);
  if (end.type === "won" && won !== undefined) {
    const { attempt, addr, family } = won;
    events.push({ t: end.t, type: "won", attempt, addr, family });
  } else if (end.type === "failed") {
    events.push({ ...end, type: "failed" });
  }
  // Stable: an attempt's start before its end at the same time.
  return events.sort((a, b) => a.t - b.t);
}

function lookupEvents(t: DialTimings, notes: DialNotes): DemoEvent[] {
  const lookup = t.lookup;
  if (lookup === undefined) return [];
  const events: DemoEvent[] = [
    { t: lookup.start, type: "dnsStart", host: lookup.host },
  ];
  const asked: Family[] = t.network === "tcp4"
    ? [4]
    : t.network === "tcp6"
    ? [6]
    : [6, 4];
  for (const family of asked) {
    const answer = family === 4 ? lookup.ipv4 : lookup.ipv6;
    if (answer !== undefined) {
      events.push({
        t: answer.end,
        type: "dnsAnswer",
        family,
        addrs: notes.answers.get(family) ?? [],
        ...(answer.error === undefined ? {} : { error: answer.error }),
      });
    } else if (lookup.end !== undefined && t.outcome !== "pending") {
      events.push({
        t: lookup.end,
        type: "dnsAnswer",
        family,
        addrs: [],
        givenUp: true,
      });
    }
  }
  if (notes.done !== undefined && lookup.end !== undefined) {
    events.push({
      t: lookup.end,
      type: "dnsDone",
      addrs: notes.done.addrs,
      coalesced: lookup.coalesced,
      ...(lookup.error === undefined ? {} : { error: lookup.error }),
    });
  }
  return events;
}

function attemptEvents(a: AttemptTiming, notes: DialNotes): DemoEvent[] {
  const { attempt, addr, family } = a;
  const events: DemoEvent[] = [{
    t: a.start,
    type: "connectStart",
    attempt,
    addr,
    family,
    cause: a.cause,
    ...notes.starts.get(attempt),
  }];
  const outcome = outcomeText(a.outcome, a.error);
  if (a.end !== undefined && outcome !== undefined) {
    events.push({
      t: a.end,
      type: "connectDone",
      attempt,
      addr,
      family,
      outcome,
      ...(a.error === undefined ? {} : { error: a.error }),
    });
  }
  const tls = a.tls;
  if (tls === undefined) return events;
  const serverName = notes.serverNames.get(attempt) ?? "";
  events.push({ t: tls.start, type: "tlsStart", attempt, addr, serverName });
  const done = outcomeText(tls.outcome, tls.error);
  if (tls.end !== undefined && done !== undefined) {
    events.push({
      t: tls.end,
      type: "tlsDone",
      attempt,
      addr,
      outcome: done,
      ...(tls.error === undefined
        ? { alpnProtocol: tls.alpnProtocol ?? null }
        : { error: tls.error }),
      ...(tls.tlsVersion === undefined ? {} : { tlsVersion: tls.tlsVersion }),
    });
  }
  return events;
}
