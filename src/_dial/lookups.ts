/**
 * A dial's DNS: one lookup per family, shared through a Singleflight per
 * resolver with concurrent dials of the same host, the answers cleaned,
 * and the DNS hooks — `dnsStart`, `dnsAnswer` per family, `dnsDone` once —
 * each fired from one place.
 *
 * @module
 */

import { CANCELED, DNSError } from "../errors.ts";
import type { HappyEyeballsEvent } from "../happy_eyeballs.ts";
import { lookupKey } from "../hostname.ts";
import {
  discoverNat64Prefixes,
  IPV4ONLY_ARPA,
  type Nat64Prefix,
} from "../nat64.ts";
import {
  type FlightHandle,
  type FlightStarter,
  joinFlight,
  leaveFlight,
  Singleflight,
} from "../singleflight.ts";
import { callHook, type Trace } from "../trace.ts";
import type { Family, IPAddr, Resolver } from "../types.ts";
import { addrKey, parseIPAndKeep, withZone } from "../_ip.ts";
import { isCached } from "../_cached_answer.ts";
import { toDNSError } from "./foreign.ts";

/** A lookup outcome of one family, as the scheduler takes it. */
export type FamilyEvent = Extract<HappyEyeballsEvent, { family: Family }>;

/**
 * How many entries of one resolver answer are read: more than any DNS
 * message can carry (a 64 KiB message holds about 4,000 A records), few
 * enough that a resolver returning `new Array(2 ** 32 - 1)` cannot stall a
 * dial.
 */
const MAX_ANSWER_ENTRIES = 65_536;

/**
 * A family of flight groups, one per resolver: what one kind of query is
 * shared through among the concurrent dials that use that resolver.
 *
 * @returns The group of a resolver, made on first use.
 */
export function flightGroups<V>(): (resolver: Resolver) => Singleflight<V> {
  const groups = new WeakMap<Resolver, Singleflight<V>>();
  return (resolver) => {
    let sf = groups.get(resolver);
    if (sf === undefined) {
      sf = new Singleflight<V>();
      groups.set(resolver, sf);
    }
    return sf;
  };
}

/**
 * The address lookups' groups: shared per (resolver, name, family), by the
 * dialled host's lookups and (Happy Eyeballs v3) a service target's alike.
 */
export const flightsOf: (resolver: Resolver) => Singleflight<IPAddr[]> =
  flightGroups<IPAddr[]>();

/**
 * The keys of the names looked up lately, per family: the same string each
 * dial, so the flights' map hashes it once (a key built per dial is hashed
 * per dial). At most {@linkcode MAX_KEPT}, then the table starts over.
 */
const KEYS = new Map<string, { 4?: string; 6?: string }>();
/** How many names (and answer texts) the tables keep. */
const MAX_KEPT = 1024;

/** The key an address lookup of `name` is shared under. */
export function addressKey(family: Family, name: string): string {
  let keys = KEYS.get(name);
  if (keys === undefined) {
    if (KEYS.size >= MAX_KEPT) KEYS.clear();
    keys = {};
    KEYS.set(name, keys);
  }
  return keys[family] ??= `${family} ${lookupKey(name)}`;
}

/**
 * Answer texts parsed lately (zone-less addresses; `null`: not an
 * address): a host's answer is mostly the one it was last time. At most
 * {@linkcode MAX_KEPT}, then the table starts over.
 */
const ANSWER_TEXTS = new Map<string, IPAddr | null>();

/** `parseIPAndKeep(text)`, from the table when the text was seen lately. */
function parseAnswerText(text: string): IPAddr | undefined {
  const known = ANSWER_TEXTS.get(text);
  if (known === null) return undefined;
  // A fresh object each time: what a dial hands on is its own.
  if (known !== undefined) {
    return { address: known.address, family: known.family };
  }
  // Parsed once: the bytes stay in _ip.ts's table for the RFC 6724,
  // NAT64 and policy steps (which parse again if they were dropped).
  const ip = parseIPAndKeep(text);
  if (ip === undefined || ip.zone === undefined) {
    if (ANSWER_TEXTS.size >= MAX_KEPT) ANSWER_TEXTS.clear();
    ANSWER_TEXTS.set(
      text,
      ip === undefined ? null : { address: ip.address, family: ip.family },
    );
  }
  return ip;
}

/** The address a resolver's answer entry names, if it names one. */
function entryAddress(item: unknown, family: Family): IPAddr | undefined {
  const record = item as { address?: unknown; zone?: unknown } | null;
  const text = typeof item === "string" ? item : record?.address;
  if (typeof text !== "string") return undefined;
  let ip = parseAnswerText(text);
  if (ip === undefined) return undefined;
  const zone = typeof item === "string" ? undefined : record?.zone;
  if (
    ip.family === 6 && ip.zone === undefined &&
    typeof zone === "string" && zone !== ""
  ) {
    ip = withZone(ip, zone);
    if (ip === undefined) return undefined;
  }
  // An IPv4-mapped address in an AAAA answer is an IPv4 address, as in Go.
  if (ip.family !== family && !(family === 6 && text.includes(":"))) {
    return undefined;
  }
  return ip;
}

/**
 * Keeps the resolver's answers that are IP addresses of `family`, each
 * once (also in other spellings: `::0001` is `::1`). Anything else — not
 * an address, the other family, a bad zone, an entry whose getters throw —
 * is dropped, so a resolver returning garbage cannot crash a dial. At most
 * the first {@linkcode MAX_ANSWER_ENTRIES} entries are read.
 */
export function cleanAnswer(value: unknown, family: Family): IPAddr[] {
  const out: IPAddr[] = [];
  let length: number;
  try {
    if (!Array.isArray(value)) return out;
    length = Math.min(value.length, MAX_ANSWER_ENTRIES);
  } catch {
    return out; // a revoked Proxy
  }
  // An answer of one address (most are) needs no set of those seen.
  const seen = length > 1 ? new Set<string>() : undefined;
  for (let i = 0; i < length; i++) {
    let ip: IPAddr | undefined;
    try {
      ip = entryAddress((value as unknown[])[i], family);
    } catch {
      continue; // a getter that throws
    }
    if (ip === undefined) continue;
    if (seen !== undefined) {
      const key = addrKey(ip);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push(ip);
  }
  return out;
}

/**
 * One family's lookup of a dial: a caller of the shared flight that is told
 * its outcome by a call (no promise, no listener; the dial leaves the
 * flight itself when it ends first).
 */
class LookupRecord implements FlightStarter<IPAddr[]> {
  readonly #owner: Lookups;
  readonly family: Family;
  readonly key: string;
  settled = false;
  shared = false;
  /** Answered (or refused) from a cache. */
  cached = false;
  /** The flight joined. */
  handle: FlightHandle | undefined;

  constructor(owner: Lookups, family: Family, key: string) {
    this.#owner = owner;
    this.family = family;
    this.key = key;
  }

  /** Asks the resolver, when this dial opens the flight. */
  start(signal: AbortSignal): Promise<IPAddr[]> {
    const { resolver, lookupHost } = this.#owner.plan;
    return resolver.lookup(lookupHost, this.family, { signal });
  }

  /** The flight settled. */
  notify(ok: boolean, outcome: unknown, shared: boolean): void {
    this.#owner.settled(this, ok, outcome, shared);
  }
}

/** Where a dial's lookups report to. */
export interface LookupSink {
  /** Whether the dial has ended (its lookups are no longer wanted). */
  readonly settled: boolean;
  /** Takes one family's outcome. */
  answered(event: FamilyEvent): void;
}

/** What the lookups of a dial read from its plan. */
export interface LookupPlan {
  readonly host: string;
  readonly lookupHost: string;
  readonly resolver: Resolver;
  readonly families: readonly Family[];
  readonly trace: Trace | undefined;
  /** Set for a dial of an IP literal: it looks nothing up. */
  readonly literal: IPAddr | undefined;
}

/** The lookups of one dial. */
export class Lookups {
  /** What the lookups read from the dial's plan. */
  readonly plan: LookupPlan;
  readonly #plan: LookupPlan;
  readonly #sink: LookupSink;
  readonly #records: LookupRecord[] = [];
  /** Aborted when this dial no longer wants its lookups. */
  #controller: AbortController | undefined;
  /** Probes and NAT64 discoveries in flight under #controller. */
  #working = 0;
  #addrs: IPAddr[] = [];
  /** Whether dnsDone has fired (or never will: a literal). */
  #done: boolean;
  #error: DNSError | undefined;

  constructor(plan: LookupPlan, sink: LookupSink) {
    this.plan = plan;
    this.#plan = plan;
    this.#sink = sink;
    this.#done = plan.literal !== undefined;
  }

  /**
   * Aborted when the dial ends with work under it in flight: source-address
   * probes, the NAT64 discovery, the service and target queries. The
   * address lookups do not use it: a dial joins and leaves their flights
   * itself (`joinFlight`, `leaveFlight`).
   */
  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  /** Whether a lookup is still running (dnsDone has not fired). */
  get pending(): boolean {
    return !this.#done;
  }

  /** Notes work under {@linkcode signal} (a probe, a NAT64 discovery). */
  working(delta: 1 | -1): void {
    this.#working += delta;
  }

  /**
   * Fires dnsStart.
   *
   * @returns False when the hook ended the dial (dnsDone has fired then).
   */
  announce(): boolean {
    const trace = this.#plan.trace;
    if (trace?.dnsStart === undefined) return true;
    callHook(trace, "dnsStart", { host: this.#plan.host });
    return !this.#sink.settled;
  }

  /**
   * Starts one lookup per family. A resolver may end the dial while it is
   * asked (it aborts the dial's signal from inside `lookup`): then the
   * flight just joined is left at once, and the other family is not asked.
   */
  start(): void {
    const { lookupHost: name, resolver, families } = this.#plan;
    const sf = flightsOf(resolver);
    for (let i = 0; i < families.length; i++) {
      if (this.#sink.settled) return;
      const family = families[i]!;
      const record = new LookupRecord(this, family, addressKey(family, name));
      this.#records.push(record);
      const handle = joinFlight(sf, record.key, record);
      if (record.settled) continue;
      if (this.#sink.settled) {
        // end() ran inside joinFlight, before this record had its handle.
        leaveFlight(handle, record, new DNSError(CANCELED, this.#plan.host));
        return;
      }
      record.handle = handle;
    }
  }

  /**
   * A lookup's flight settled: Go reports the sharing for a failed lookup
   * too, so `shared` comes with either outcome.
   */
  settled(
    record: LookupRecord,
    ok: boolean,
    outcome: unknown,
    shared: boolean,
  ): void {
    record.handle = undefined;
    if (ok) this.#answered(record, outcome as IPAddr[], shared);
    else {
      record.shared = shared;
      this.#failed(record, outcome);
    }
  }

  /**
   * RFC 7050: the NAT64 prefixes from the AAAA answers for ipv4only.arpa,
   * handed to `found` (none when the lookup fails).
   *
   * @returns False when there is no resolver to ask.
   */
  discoverNat64(found: (prefixes: Nat64Prefix[]) => void): boolean {
    const resolver = this.#plan.resolver;
    if (typeof resolver?.lookup !== "function") return false;
    this.#working++;
    flightsOf(resolver).do(
      `6 ${IPV4ONLY_ARPA}`,
      (signal) => resolver.lookup(IPV4ONLY_ARPA, 6, { signal }),
      { signal: this.signal },
    ).then(
      ({ value }) => discoverNat64Prefixes(cleanAnswer(value, 6)),
      () => [] as Nat64Prefix[],
    ).then((prefixes) => {
      this.#working--;
      found(prefixes);
    });
    return true;
  }

  #answered(record: LookupRecord, value: IPAddr[], shared: boolean): void {
    record.settled = true;
    record.shared = shared;
    record.cached = isCached(value);
    if (this.#sink.settled) return;
    const family = record.family;
    const addrs = cleanAnswer(value, family);
    for (const a of addrs) this.#addrs.push(a);
    if (!this.#reportAnswer(record, addrs, shared, undefined)) return;
    this.#maybeDone();
    this.#sink.answered({ type: "answer", family, addrs });
  }

  #failed(record: LookupRecord, error: unknown): void {
    record.settled = true;
    record.cached = isCached(error);
    if (this.#sink.settled) return;
    const err = toDNSError(error, this.#plan.host);
    this.#error ??= err;
    if (!this.#reportAnswer(record, [], record.shared, err)) return;
    this.#maybeDone();
    this.#sink.answered({
      type: "lookupFailed",
      family: record.family,
      error: err,
    });
  }

  /**
   * Fires dnsAnswer for one family.
   *
   * @returns False when the hook ended the dial.
   */
  #reportAnswer(
    record: LookupRecord,
    addrs: IPAddr[],
    coalesced: boolean,
    error: DNSError | undefined,
  ): boolean {
    const trace = this.#plan.trace;
    if (trace?.dnsAnswer === undefined) return true;
    const info = {
      host: this.#plan.host,
      family: record.family,
      addrs: addrs.slice(),
      coalesced,
      cached: record.cached,
    };
    callHook(
      trace,
      "dnsAnswer",
      error === undefined ? info : { ...info, error },
    );
    return !this.#sink.settled;
  }

  #maybeDone(): void {
    if (this.#done) return;
    const records = this.#records;
    for (let i = 0; i < records.length; i++) {
      if (!records[i]!.settled) return;
    }
    this.#fireDone(undefined, this.#isCoalesced());
  }

  /**
   * The dial ended: leaves the lookups still running and fires dnsDone if
   * it has not fired, with `reason` as its error when nothing was found.
   */
  end(reason: Error | undefined): void {
    const fire = !this.#done && this.#plan.trace?.dnsDone !== undefined;
    // Taken before leaving the lookups drops this dial from their waiters.
    const coalesced = fire && this.#isCoalesced();
    // Aborting takes a fresh DNSError, whose stack capture alone costs
    // microseconds (3–13 µs on V8): skipped when nothing is left to hear it,
    // as every lookup, probe and NAT64 discovery has settled and removed
    // its listener.
    let pending = false;
    let reasonToLeave: DNSError | undefined;
    const records = this.#records;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      if (record.settled) continue;
      pending = true;
      const handle = record.handle;
      if (handle === undefined) continue;
      record.handle = undefined;
      leaveFlight(
        handle,
        record,
        reasonToLeave ??= new DNSError(CANCELED, this.#plan.host),
      );
    }
    if (this.#working > 0) {
      this.#controller?.abort(
        reasonToLeave ?? new DNSError(CANCELED, this.#plan.host),
      );
    }
    // A dial that won before its lookups answered (Happy Eyeballs v3: on
    // a service record's address hints) gave them up: that is what dnsDone
    // says then, not "no such host".
    if (fire) {
      this.#fireDone(
        reason ??
          (pending ? new DNSError(CANCELED, this.#plan.host) : undefined),
        coalesced,
      );
    } else this.#done = true;
  }

  /** Fires dnsDone: the one place it fires, once. */
  #fireDone(reason: Error | undefined, coalesced: boolean): void {
    this.#done = true;
    const trace = this.#plan.trace;
    if (trace?.dnsDone === undefined) return;
    let cached = false;
    for (const record of this.#records) {
      if (!record.settled) continue;
      if (!record.cached) {
        cached = false;
        break;
      }
      cached = true;
    }
    const host = this.#plan.host;
    const addrs = this.#addrs.slice();
    const error = addrs.length === 0 ? reason ?? this.error() : undefined;
    callHook(
      trace,
      "dnsDone",
      error === undefined
        ? { host, addrs, coalesced, cached }
        : { host, addrs, coalesced, cached, error },
    );
  }

  /** Whether a lookup of this dial was (or still is) shared with another caller. */
  #isCoalesced(): boolean {
    const sf = flightsOf(this.#plan.resolver);
    for (const record of this.#records) {
      if (record.settled ? record.shared : sf.waiters(record.key) > 1) {
        return true;
      }
    }
    return false;
  }

  /** The error of a lookup that found nothing, as Go reports it. */
  error(): DNSError {
    if (this.#error !== undefined) return this.#error;
    const server = this.#plan.resolver.server;
    return new DNSError("no such host", this.#plan.host, {
      isNotFound: true,
      server: typeof server === "string" && server !== "" ? server : undefined,
    });
  }
}
