/**
 * The resolution side of one Happy Eyeballs v3 dial as a pure state: the
 * service answer (after its aliases), the address answers of every name
 * the services need, and the address hints standing in for answers not in
 * yet. From them it builds the ranked endpoints the scheduler races and
 * the facts the move-on rule reads. No I/O, no timers: the driver feeds
 * it answers and asks it what to query and what to try.
 *
 * @module
 */

import { parseIP } from "../address.ts";
import type { DNSError } from "../errors.ts";
import { lookupKey } from "../hostname.ts";
import type { Endpoint, Family, IPAddr, ServiceRecord } from "../types.ts";
import {
  AliasChain,
  planServices,
  type RandomSource,
  type ServiceOption,
} from "./records.ts";
import { endpointKey } from "./endpoint_key.ts";

/** How many hints of one family one record contributes. */
export const MAX_HINTS = 16;

/** One endpoint to race, with where it came from. */
export interface ServiceCandidate {
  /** The address and the port to dial. */
  readonly endpoint: Endpoint;
  /** Its group: lower ranks are tried first. */
  readonly rank: number;
  /** The service record it came from; unset: the name's own addresses. */
  readonly service: ServiceOption | undefined;
  /** True when the address is a record's ipv4hint/ipv6hint. */
  readonly hint: boolean;
}

/** An address lookup the driver is to start. */
export interface AddressQuery {
  /** The name, in lookup form. */
  readonly name: string;
  /** The family. */
  readonly family: Family;
}

/** Options of {@linkcode ServiceResolution}. */
export interface ServiceResolutionOptions {
  /** The dialled host, in lookup form. */
  host: string;
  /** The port the caller dials. */
  port: number;
  /** The URI scheme (`"https"`). */
  scheme: string;
  /** The caller's `tls.alpnProtocols`. */
  clientAlpn?: readonly string[];
  /** The families the dial uses, the preferred one first. */
  families: readonly Family[];
  /** Shuffles records of equal priority. @default {Math.random} */
  random?: RandomSource;
}

/** An address answer: its addresses, or `undefined` while it is awaited. */
type Answer = readonly IPAddr[] | undefined;

interface NameState {
  /** Per family: the answer, `null` once settled empty or failed. */
  readonly answers: Map<Family, Answer | null>;
}

/** What a service answer asks the driver to do next. */
export type ServiceNext =
  /** Query the service records of `name` (an AliasMode record). */
  | { type: "follow"; name: string }
  /** The service side is done. */
  | { type: "done"; error?: DNSError };

/** The hints of one family of a record, parsed, at most {@linkcode MAX_HINTS}. */
function hintsOf(record: ServiceRecord, family: Family): IPAddr[] {
  const list = family === 6 ? record.ipv6hint : record.ipv4hint;
  const out: IPAddr[] = [];
  if (!Array.isArray(list)) return out;
  for (const text of list) {
    if (out.length >= MAX_HINTS) break;
    if (typeof text !== "string") continue;
    const ip = parseIP(text);
    if (ip === undefined || ip.family !== family || ip.zone !== undefined) {
      continue;
    }
    out.push(ip);
  }
  return out;
}

/**
 * One dial's service and address answers, turned into ranked endpoints.
 *
 * Ranks (the draft's grouping): one group per usable ServiceMode record in
 * priority order; then, RFC 9460 §3's fallbacks for an SVCB-optional
 * client, the last alias target's own addresses and the dialled host's
 * own addresses on the caller's port ("addresses with no service record
 * last"). An endpoint already in an earlier group is not repeated.
 *
 * A record's hints stand in for its target's addresses of that family
 * until a positive answer for them arrives and replaces them; an empty or
 * failed answer has nothing to replace them with, so they stay.
 */
export class ServiceResolution {
  readonly #host: string;
  readonly #port: number;
  readonly #scheme: string;
  readonly #clientAlpn: readonly string[] | undefined;
  readonly #families: readonly Family[];
  readonly #random: RandomSource;
  readonly #chain: AliasChain;
  readonly #names = new Map<string, NameState>();
  #queued: AddressQuery[] = [];
  #options: ServiceOption[] = [];
  #serviceSettled = false;
  #serviceError: DNSError | undefined;
  /** The name `"."` stood for when the chain ended (after aliases). */
  #finalName: string | undefined;

  /**
   * Starts with the dialled host's address lookups counted as sent.
   *
   * @param options The dial's host, port, scheme, ALPN and families.
   */
  constructor(options: ServiceResolutionOptions) {
    this.#host = lookupKey(options.host);
    this.#port = options.port;
    this.#scheme = options.scheme;
    this.#clientAlpn = options.clientAlpn;
    this.#families = options.families;
    this.#random = options.random ?? Math.random;
    this.#chain = new AliasChain(this.#host);
    this.#want(this.#host, false);
  }

  /** The usable service records, in the order they are tried. */
  get services(): readonly ServiceOption[] {
    return this.#options;
  }

  /** Whether the service side is done (records, none, or failed). */
  get serviceSettled(): boolean {
    return this.#serviceSettled;
  }

  /** Why the service side failed, if it did. */
  get serviceError(): DNSError | undefined {
    return this.#serviceError;
  }

  /** The name whose service records are asked for now. */
  get serviceName(): string {
    return this.#chain.name;
  }

  /**
   * Takes the service answer for {@linkcode serviceName}.
   *
   * @param records The records the resolver returned.
   * @returns Whether to follow an alias, or that the service side is done.
   */
  serviceAnswer(records: readonly ServiceRecord[]): ServiceNext {
    if (this.#serviceSettled) return { type: "done" };
    const step = this.#chain.take(records, this.#random);
    if (step.type === "follow") return step;
    if (step.type === "error") return this.serviceFailed(step.error);
    this.#serviceSettled = true;
    this.#finalName = step.name;
    if (step.records.length === 0 && this.#chain.aliases === 0) {
      // No service records (NODATA, the common case): the dial is the
      // host's own addresses, nothing to plan or look up.
      return { type: "done" };
    }
    const plan = planServices(step.records, {
      name: step.name,
      port: this.#port,
      scheme: this.#scheme,
      clientAlpn: this.#clientAlpn,
      random: this.#random,
    });
    this.#options = plan.options;
    for (const option of plan.options) this.#want(option.name, true);
    // RFC 9460 §3: after an alias, the last target's own addresses are a
    // fallback endpoint on the caller's port.
    if (this.#chain.aliases > 0) this.#want(step.name, true);
    return { type: "done" };
  }

  /**
   * The service lookup failed (SERVFAIL, timeout, NXDOMAIN, a bad chain):
   * the dial goes on with the host's own addresses.
   *
   * @param error Why.
   * @returns That the service side is done.
   */
  serviceFailed(error: DNSError): ServiceNext {
    if (!this.#serviceSettled) {
      this.#serviceSettled = true;
      this.#serviceError = error;
    }
    return { type: "done", error };
  }

  /**
   * The address lookups to start now (each returned once).
   *
   * @returns The names and families not queried yet.
   */
  takeQueries(): AddressQuery[] {
    const out = this.#queued;
    this.#queued = [];
    return out;
  }

  /**
   * Takes an address answer.
   *
   * @param name The name it is for, in lookup form.
   * @param family The family.
   * @param addrs The addresses; empty when there are none.
   */
  addressAnswer(name: string, family: Family, addrs: readonly IPAddr[]): void {
    const state = this.#names.get(lookupKey(name));
    if (state === undefined || !state.answers.has(family)) return;
    const own = addrs.every((a) => a.family === family)
      ? addrs
      : addrs.filter((a) => a.family === family);
    state.answers.set(family, own.length === 0 ? null : own);
  }

  /**
   * An address lookup failed.
   *
   * @param name The name it is for, in lookup form.
   * @param family The family.
   */
  addressFailed(name: string, family: Family): void {
    const state = this.#names.get(lookupKey(name));
    if (state === undefined || !state.answers.has(family)) return;
    state.answers.set(family, null);
  }

  /** Whether the dialled host's lookup of `family` has settled. */
  hostSettled(family: Family): boolean {
    return this.#names.get(this.#host)?.answers.get(family) !== undefined;
  }

  /** Whether anything is still awaited: the service side or a lookup. */
  get pending(): boolean {
    if (!this.#serviceSettled || this.#queued.length > 0) return true;
    for (const state of this.#names.values()) {
      for (const answer of state.answers.values()) {
        if (answer === undefined) return true;
      }
    }
    return false;
  }

  /**
   * The move-on rule's "answer for the preferred address family": the
   * host's lookup of it settled, or an endpoint of it (an answer or a
   * hint) is at hand.
   *
   * @param candidates What {@linkcode candidates} returned.
   */
  preferredAnswered(candidates: readonly ServiceCandidate[]): boolean {
    const preferred = this.#families[0];
    if (preferred === undefined) return true;
    if (this.hostSettled(preferred)) return true;
    return candidates.some((c) => c.endpoint.family === preferred);
  }

  /**
   * The endpoints to race now, in rank order (each once).
   *
   * @returns The candidates.
   */
  candidates(): ServiceCandidate[] {
    if (this.#options.length === 0 && this.#chain.aliases === 0) {
      return this.#hostCandidates();
    }
    const out: ServiceCandidate[] = [];
    const seen = new Set<string>();
    const add = (
      addr: IPAddr,
      port: number,
      rank: number,
      service: ServiceOption | undefined,
      hint: boolean,
    ) => {
      const endpoint: Endpoint = addr.zone === undefined
        ? { address: addr.address, family: addr.family, port }
        : { address: addr.address, family: addr.family, zone: addr.zone, port };
      const key = endpointKey(endpoint);
      if (seen.has(key)) return;
      seen.add(key);
      out.push({ endpoint, rank, service, hint });
    };
    for (const option of this.#options) {
      const state = this.#names.get(option.name);
      for (const family of this.#families) {
        const answer = state?.answers.get(family);
        if (answer) {
          for (const a of answer) {
            add(a, option.port, option.rank, option, false);
          }
        } else {
          for (const a of hintsOf(option.record, family)) {
            add(a, option.port, option.rank, option, true);
          }
        }
      }
    }
    let rank = this.#options.length;
    const fallbacks = this.#finalName !== undefined &&
        this.#finalName !== this.#host
      ? [this.#finalName, this.#host]
      : [this.#host];
    for (const name of fallbacks) {
      const state = this.#names.get(name);
      for (const family of this.#families) {
        const answer = state?.answers.get(family);
        if (answer) {
          for (const a of answer) add(a, this.#port, rank, undefined, false);
        }
      }
      rank++;
    }
    return out;
  }

  /**
   * {@linkcode candidates} when there is no service record and no alias:
   * the host's own addresses on the caller's port, one group. The
   * families' lists cannot share an address, so only a list of more than
   * one address is checked for repeats.
   */
  #hostCandidates(): ServiceCandidate[] {
    const out: ServiceCandidate[] = [];
    const state = this.#names.get(this.#host);
    if (state === undefined) return out;
    const port = this.#port;
    for (const family of this.#families) {
      const answer = state.answers.get(family);
      if (!answer) continue;
      const seen = answer.length > 1 ? new Set<string>() : undefined;
      for (const addr of answer) {
        const endpoint: Endpoint = addr.zone === undefined
          ? { address: addr.address, family: addr.family, port }
          : {
            address: addr.address,
            family: addr.family,
            zone: addr.zone,
            port,
          };
        if (seen !== undefined) {
          const key = endpointKey(endpoint);
          if (seen.has(key)) continue;
          seen.add(key);
        }
        out.push({ endpoint, rank: 0, service: undefined, hint: false });
      }
    }
    return out;
  }

  /** Notes that `name` needs its addresses; queues the lookups not sent. */
  #want(name: string, queue: boolean): void {
    if (this.#names.has(name)) return;
    const answers = new Map<Family, Answer | null>();
    for (const family of this.#families) {
      answers.set(family, undefined);
      if (queue) this.#queued.push({ name, family });
    }
    this.#names.set(name, { answers });
  }
}
