/**
 * The order in which a dial tries its endpoints, and why: RFC 6724 §6
 * destination address selection, the connection history of RFC 8305 §4/§5
 * (what failed sorts last, what was fast goes first, the attempt delay from
 * the measured connect time), NAT64 addresses sorted as the IPv4 address
 * they carry (§7), and the reason each attempt went before the next.
 *
 * @module
 */

import { type HistoryRecord, HistoryStore } from "../history.ts";
import { nat64Embedded, type Nat64Prefix } from "../nat64.ts";
import {
  comparePrepared,
  DEFAULT_POLICY_TABLE,
  type OrderRule,
  type PolicyEntry,
  PREFER_IPV4_POLICY_TABLE,
  type PreparedDestination,
  prepareDestination,
  preparedRule,
  type SourceAddress,
} from "../rfc6724.ts";
import type { AttemptCause, ConnectStartInfo, Trace } from "../trace.ts";
import type {
  Dialer,
  Endpoint,
  Family,
  IPAddr,
  Network,
  Resolver,
} from "../types.ts";
import { addrKey, ipBytes } from "../_ip.ts";
import { lookupKey } from "../hostname.ts";
import type { FamilyEvent } from "./lookups.ts";

/** The default history store of each dialer object. */
const histories = new WeakMap<object, HistoryStore>();

/** The history store of a dialer (made on first use); see `dialerHistory`. */
export function historyOf(dialer: object): HistoryStore {
  let store = histories.get(dialer);
  if (store === undefined) {
    store = new HistoryStore();
    histories.set(dialer, store);
  }
  return store;
}

/**
 * The family whose answer a dial waits for first: the preferred one, unless
 * history says every recent attempt to it failed and one of the other
 * family connected (RFC 8305 §4: what failed sorts after what worked).
 */
function historyFamily(
  known: ReadonlyMap<string, HistoryRecord>,
  preferred: Family,
): Family {
  let preferredSeen = false;
  let preferredWorked = false;
  let otherWorked = false;
  for (const address of known.keys()) {
    const record = known.get(address)!;
    const family = address.includes(":") ? 6 : 4;
    const worked = record.outcome === "connected";
    if (family === preferred) {
      preferredSeen = true;
      if (worked) preferredWorked = true;
    } else if (worked) otherWorked = true;
  }
  return preferredSeen && !preferredWorked && otherWorked
    ? (preferred === 6 ? 4 : 6)
    : preferred;
}

/** What an {@linkcode Order} is made from: the dial's plan has it all. */
export interface OrderOptions {
  readonly resolver: Resolver;
  readonly dialer: Dialer<unknown>;
  readonly clock: { now(): number };
  /** The name looked up; "" for a literal (no history then). */
  readonly lookupHost: string;
  readonly families: readonly Family[];
  readonly nat64: { prefixes: Nat64Prefix[] | undefined } | undefined;
  /** The dial's trace: a connectStart hook is told why each attempt went. */
  readonly trace: Trace | undefined;
}

/** What an {@linkcode Order} takes from the dial's options. */
export interface OrderChoices {
  readonly history?: HistoryStore | false;
  readonly preferredFamily?: Family;
}

/** The ordering state of one dial. */
export class Order {
  readonly #resolver: Resolver;
  readonly #clock: { now(): number };
  /** Where attempt outcomes go; undefined when off or for a literal. */
  readonly #history: HistoryStore | undefined;
  /** The host's history when the dial started, by address. */
  readonly #known: ReadonlyMap<string, HistoryRecord> | undefined;
  /** The host name as history keys it. */
  readonly #historyHost: string = "";
  readonly #policyTable: readonly PolicyEntry[];
  readonly #families: readonly Family[];
  readonly #trace: Trace | undefined;
  /** The family whose answer the scheduler waits for. */
  readonly gate: Family;
  /** Set when history made `gate` the other family (RFC 8305 §4). */
  readonly #gateFromHistory: boolean = false;
  /** NAT64 when on; `prefixes` undefined while the discovery runs. */
  readonly nat64: { prefixes: Nat64Prefix[] | undefined } | undefined;
  /** Synthesised IPv6 address → the IPv4 address it stands for. */
  #synthesized: Map<string, string> | undefined;
  /** The rule inputs of each address, computed on first comparison. */
  #prepared: Map<string, PreparedDestination> | undefined;
  /** Source(D) of the probed addresses; `null`: none. */
  #sources: Map<string, SourceAddress | null> | undefined;
  /** Families with an address handed to the scheduler: bit 1 IPv4, 2 IPv6. */
  #offeredFamilies = 0;
  /** Addresses handed to the scheduler, when connectStart wants `sortedBy`. */
  #offered: Map<string, IPAddr> | undefined;
  #started: Set<string> | undefined;

  /**
   * @param options The dial's plan (or what it takes of it).
   * @param choices The history store and the preferred family, as the
   * dial's options give them.
   */
  constructor(
    options: OrderOptions,
    choices: OrderChoices,
  ) {
    this.#resolver = options.resolver;
    this.#clock = options.clock;
    this.#families = options.families;
    this.#trace = options.trace;
    this.nat64 = options.nat64;
    const preferred = choices.preferredFamily ?? 6;
    this.#policyTable = choices.preferredFamily === 4
      ? PREFER_IPV4_POLICY_TABLE // RFC 6724 §10.3
      : DEFAULT_POLICY_TABLE;
    let gate = preferred;
    if (options.lookupHost !== "" && choices.history !== false) {
      const history = choices.history ?? historyOf(options.dialer);
      this.#history = history;
      this.#historyHost = lookupKey(options.lookupHost);
      const known = history.host(
        this.#resolver,
        this.#historyHost,
        this.#clock.now(),
      );
      if (known.size > 0) {
        this.#known = known;
        if (this.#families.length === 2) {
          gate = historyFamily(known, gate);
          this.#gateFromHistory = gate !== preferred;
        }
      }
    }
    this.gate = gate;
  }

  /** Whether history knows the host (and so may set attempt delays). */
  get knowsHost(): boolean {
    return this.#known !== undefined;
  }

  /** Whether attempt outcomes are recorded. */
  get records(): boolean {
    return this.#history !== undefined;
  }

  /** Whether an answer of either family was handed to the scheduler. */
  get offeredAny(): boolean {
    return this.#offeredFamilies !== 0;
  }

  /** Orders two endpoints for the scheduler (RFC 6724 §6 + history). */
  compare(a: IPAddr, b: IPAddr): number {
    return comparePrepared(this.#prepare(a), this.#prepare(b));
  }

  /** The rule inputs of an address, computed once per dial. */
  #prepare(ip: IPAddr): PreparedDestination {
    const key = addrKey(ip);
    const table = this.#prepared ??= new Map();
    let prepared = table.get(key);
    if (prepared === undefined) {
      const record = this.#known?.get(key);
      const sources = this.#sources;
      prepared = prepareDestination({
        address: ip.address,
        family: ip.family,
        source: sources?.has(key) ? sources.get(key) : undefined,
        failed: record !== undefined && record.outcome !== "connected",
        rtt: record?.outcome === "connected" ? record.connectTime : undefined,
        used: record?.used === true,
        ipv4: this.nat64Of(ip),
      }, { policyTable: this.#policyTable });
      table.set(key, prepared);
    }
    return prepared;
  }

  /** The IPv4 address a NAT64 address stands for, if it is one. */
  nat64Of(ip: IPAddr): string | undefined {
    if (ip.family !== 6) return undefined;
    return this.#synthesized?.get(ip.address) ??
      nat64Embedded(ip.address, this.nat64?.prefixes);
  }

  /** Whether NAT64 applies to this dial at all. */
  get usesNat64(): boolean {
    return this.nat64 !== undefined || this.#synthesized !== undefined;
  }

  /** Whether this dial synthesised `ip` (it is no resolver's answer). */
  isSynthesized(ip: IPAddr): boolean {
    return this.#synthesized?.has(addrKey(ip)) === true;
  }

  /**
   * Notes a synthesised address.
   *
   * @returns False when it was synthesised before.
   */
  addSynthesized(six: IPAddr, ipv4: string): boolean {
    if (this.#synthesized?.has(six.address)) return false;
    (this.#synthesized ??= new Map()).set(six.address, ipv4);
    return true;
  }

  /** Notes the probed source addresses of `addrs` (valid ones only). */
  setSources(
    addrs: readonly IPAddr[],
    sources: readonly (SourceAddress | null | undefined)[],
  ): void {
    const table = this.#sources ??= new Map();
    for (let i = 0; i < addrs.length; i++) {
      const source = sources[i];
      const key = addrKey(addrs[i]!);
      if (source === null) table.set(key, null);
      else if (
        typeof source === "object" && typeof source.address === "string" &&
        ipBytes(source.address) !== undefined
      ) table.set(key, source);
    }
  }

  /** Notes what an answer hands the scheduler. */
  offer(event: FamilyEvent): void {
    if (event.type !== "answer") return;
    const explain = this.#trace?.connectStart !== undefined;
    for (const ip of event.addrs) {
      if (!this.#families.includes(ip.family)) continue;
      this.#offeredFamilies |= ip.family === 4 ? 1 : 2;
      if (explain) (this.#offered ??= new Map()).set(addrKey(ip), ip);
    }
  }

  /** The attempt delay history derives for an endpoint, if any (§5). */
  historyDelay(endpoint: Endpoint): number | undefined {
    const record = this.#known?.get(addrKey(endpoint));
    if (record?.outcome !== "connected" || record.connectTime === undefined) {
      return undefined;
    }
    try {
      return this.#history!.attemptDelay(record.connectTime);
    } catch {
      return undefined;
    }
  }

  /**
   * Records how an attempt to `endpoint` ended: `connected` (with its
   * connect time since `startedAt`), `failed`, or `outpaced` (still
   * connecting when one started after it won).
   */
  remember(
    endpoint: Endpoint,
    startedAt: number,
    outcome: "connected" | "failed" | "outpaced",
  ): void {
    const now = this.#clock.now();
    try {
      this.#history!.record(
        {
          scope: this.#resolver,
          host: this.#historyHost,
          address: addrKey(endpoint),
        },
        outcome === "connected"
          ? { outcome, connectTime: Math.max(0, now - startedAt), now }
          : { outcome, now },
      );
    } catch {
      // A store that throws changes nothing about the dial.
    }
  }

  /** What connectStart receives: the required fields and why (RFC 6724, §4). */
  startInfo(
    network: Network,
    index: number,
    endpoint: Endpoint,
    addr: string,
    cause: AttemptCause,
  ): ConnectStartInfo {
    const info: ConnectStartInfo = {
      network,
      addr,
      family: endpoint.family,
      attempt: index,
      cause,
    };
    const key = addrKey(endpoint);
    const sortedBy = this.#sortedBy(index, endpoint, key);
    if (sortedBy !== undefined) info.sortedBy = sortedBy;
    const record = this.#known?.get(key);
    if (record !== undefined) info.history = record;
    const delay = this.historyDelay(endpoint);
    if (delay !== undefined) info.historyDelay = delay;
    if (this.#sources?.has(key)) info.source = this.#sources.get(key)!;
    const v4 = this.nat64Of(endpoint);
    if (v4 !== undefined) info.nat64 = v4;
    return info;
  }

  /** Why `endpoint` went before the best one still untried, if known. */
  #sortedBy(
    index: number,
    endpoint: Endpoint,
    key: string,
  ): ConnectStartInfo["sortedBy"] {
    const offered = this.#offered;
    if (offered === undefined) return undefined;
    const started = this.#started ??= new Set();
    started.add(key);
    let best: IPAddr | undefined;
    for (const [k, ip] of offered) {
      if (started.has(k)) continue;
      if (best === undefined || this.compare(ip, best) < 0) best = ip;
    }
    if (best === undefined) {
      // Nothing else known yet: its family went first because every
      // recent attempt to the other one failed.
      return index === 0 && this.#gateFromHistory &&
          endpoint.family === this.gate
        ? "avoid-failed"
        : undefined;
    }
    const mine = this.#prepare(endpoint);
    const theirs = this.#prepare(best);
    if (best.family === endpoint.family) return preparedRule(mine, theirs);
    if (index > 0 || comparePrepared(mine, theirs) > 0) {
      return "family"; // §4 interleaving
    }
    // The first attempt: its family led because its best address sorted
    // first, or (on a tie) because it is the preferred one.
    const rule: OrderRule | "family" = preparedRule(mine, theirs);
    return rule === "order" ? "family" : rule;
  }
}
