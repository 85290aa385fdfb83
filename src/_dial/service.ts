/**
 * Happy Eyeballs v3 on a dial (draft-ietf-happy-happyeyeballs-v3): the
 * service (HTTPS or SVCB) query sent just before the AAAA and A ones, its
 * AliasMode chain followed, the addresses of its target names looked up,
 * and all of it turned into ranked endpoints for the scheduler (its
 * `awaitService` mode). The service queries are shared among concurrent
 * dials per (resolver, scheme, port, name), the target lookups with every
 * address lookup of that name, as the host's are. `dnsAnswer` fires here
 * for each service answer (`family: "service"`) and each target lookup
 * (`name`: the target).
 *
 * @module
 */

import type { DNSError } from "../errors.ts";
import type { HappyEyeballsEvent } from "../happy_eyeballs.ts";
import {
  callHook,
  type DNSAnswerInfo,
  type ServiceEndpointInfo,
  type Trace,
} from "../trace.ts";
import type {
  Endpoint,
  Family,
  IPAddr,
  Resolver,
  ServiceRecord,
} from "../types.ts";
import type { RandomSource, ServiceOption } from "../_he3/records.ts";
import {
  type ServiceCandidate,
  ServiceResolution,
} from "../_he3/resolution.ts";
import { toDNSError } from "./foreign.ts";
import {
  addressKey,
  cleanAnswer,
  type FamilyEvent,
  flightGroups,
  flightsOf,
  type Lookups,
} from "./lookups.ts";
import { endpointKey } from "../_he3/endpoint_key.ts";
import { isCached } from "../_cached_answer.ts";
import { lookupKey } from "../hostname.ts";
import { copyServices } from "../_dns_cache_items.ts";

/**
 * The service queries' groups: one query per (resolver, scheme, port,
 * name) shared among concurrent dials, as the address lookups are.
 */
const serviceFlightsOf = flightGroups<unknown>();

/** The key a service query is shared under (the query name depends on all three). */
function serviceKey(scheme: string, port: number, name: string): string {
  return `s ${scheme.toLowerCase()} ${port} ${lookupKey(name)}`;
}

/** The service side of a dial's plan. */
export interface ServiceSpec {
  /** The URI scheme: `"https"` asks for HTTPS records. */
  readonly scheme: string;
  /** Shuffles records of equal priority. */
  readonly random: RandomSource | undefined;
}

/** What the service lookups read from the dial's plan. */
export interface ServicePlan {
  readonly host: string;
  readonly lookupHost: string;
  readonly port: number;
  readonly resolver: Resolver;
  readonly trace: Trace | undefined;
  readonly tls: { readonly alpnProtocols?: string[] } | undefined;
  readonly service: ServiceSpec | undefined;
}

/** Where the service lookups report to. */
export interface ServiceSink {
  /** Whether the dial has ended. */
  readonly settled: boolean;
  /** Hands an event to the scheduler. */
  dispatch(event: HappyEyeballsEvent): void;
}

/**
 * How the hooks show the service record an endpoint came from.
 *
 * @param option The record, as the dial tries it.
 * @returns A fresh info object.
 */
export function serviceInfo(option: ServiceOption): ServiceEndpointInfo {
  const info: ServiceEndpointInfo = {
    priority: option.priority,
    target: option.target,
    port: option.port,
  };
  if (option.alpn !== undefined) info.alpn = option.alpn.slice();
  // A copy: the record may be shared with concurrent dials (one query).
  const ech = option.record.ech;
  if (ech instanceof Uint8Array) info.ech = ech.slice();
  return info;
}

/** The records of a resolver's answer, as an array (garbage: none). */
function recordsOf(value: unknown): ServiceRecord[] {
  try {
    return Array.isArray(value)
      ? (value as unknown[]).filter((r): r is ServiceRecord =>
        r !== null && typeof r === "object"
      )
      : [];
  } catch {
    return []; // a revoked Proxy
  }
}

/** One answer as `dnsAnswer` reports it. */
interface ReportedAnswer {
  readonly addrs?: IPAddr[];
  readonly records?: ServiceRecord[];
  readonly error?: DNSError;
  readonly coalesced: boolean;
  readonly cached: boolean;
}

/**
 * The hook's own copy of an answer's records (their lists and `ech` too):
 * the answer itself may be shared with other dials.
 */
function ownCopy(records: ServiceRecord[]): ServiceRecord[] {
  try {
    return copyServices(records) ?? [];
  } catch {
    return []; // a record whose getters throw
  }
}

/** The service lookups of one dial. */
export class ServiceLookups {
  readonly #plan: ServicePlan & { service: ServiceSpec };
  readonly #lookups: Lookups;
  readonly #sink: ServiceSink;
  readonly #resolution: ServiceResolution;
  /** The candidates of the last `endpoints` event, by endpoint. */
  readonly #byKey = new Map<string, ServiceCandidate>();

  /**
   * @param plan The dial's plan, with its `service` set.
   * @param families The families the dial uses, the preferred one first.
   * @param lookups The dial's address lookups (their signal and upkeep).
   * @param sink The run.
   */
  constructor(
    plan: ServicePlan & { service: ServiceSpec },
    families: readonly Family[],
    lookups: Lookups,
    sink: ServiceSink,
  ) {
    this.#plan = plan;
    this.#lookups = lookups;
    this.#sink = sink;
    this.#resolution = new ServiceResolution({
      host: plan.lookupHost,
      port: plan.port,
      scheme: plan.service.scheme,
      clientAlpn: plan.tls?.alpnProtocols,
      families,
      random: plan.service.random,
    });
  }

  /** Sends the service query (before the address ones: the draft's order). */
  start(): void {
    this.#query(this.#plan.lookupHost, true);
  }

  /** Takes the dialled host's answer of one family (after NAT64, probes). */
  hostAnswer(event: FamilyEvent): void {
    const name = this.#plan.lookupHost;
    if (event.type === "answer") {
      this.#resolution.addressAnswer(name, event.family, event.addrs);
    } else {
      this.#resolution.addressFailed(name, event.family);
    }
    this.#update();
  }

  /**
   * Where an endpoint the scheduler starts came from.
   *
   * @param endpoint The endpoint of a `start` action.
   * @returns Its candidate; undefined for an endpoint it never listed.
   */
  candidate(endpoint: Endpoint): ServiceCandidate | undefined {
    return this.#byKey.get(endpointKey(endpoint));
  }

  #query(name: string, first: boolean): void {
    const { resolver, service } = this.#plan;
    const lookups = this.#lookups;
    // RFC 9460 §3: an alias target is asked as it is, without the
    // `_PORT._https` prefix a port other than 443 puts on the host; for
    // https, port 443 is how a resolver is told so.
    const port = !first && service.scheme === "https" ? 443 : this.#plan.port;
    const { scheme } = service;
    lookups.working(1);
    // Shared with concurrent dials: one query, which this dial's end (an
    // abort, a win) leaves to the others still waiting for it.
    let shared = false;
    serviceFlightsOf(resolver).do(
      serviceKey(scheme, port, name),
      (signal) => resolver.lookupService!(name, { signal, scheme, port }),
      { signal: lookups.signal, onSettled: (s) => void (shared = s) },
    ).then(
      ({ value }) => {
        lookups.working(-1);
        if (this.#sink.settled) return;
        const records = recordsOf(value);
        const next = this.#resolution.serviceAnswer(records);
        const error = next.type === "done" ? next.error : undefined;
        const reported = this.#report(name, "service", {
          records,
          error,
          coalesced: shared,
          cached: isCached(value),
        });
        if (!reported) return;
        if (next.type === "follow") this.#query(next.name, false);
        this.#update();
      },
      (reason: unknown) => {
        lookups.working(-1);
        if (this.#sink.settled) return;
        const error = toDNSError(reason, name);
        this.#resolution.serviceFailed(error);
        const reported = this.#report(name, "service", {
          error,
          coalesced: shared,
          cached: isCached(reason),
        });
        if (!reported) return;
        this.#update();
      },
    );
  }

  /**
   * Looks up the addresses of a service's target name: shared with
   * concurrent lookups of that name (as a dialled host's are), reported by
   * `dnsAnswer` with the target as `name`. They are not part of the dial's
   * `dnsDone`, which is the dialled host's own lookup.
   */
  #lookupTarget(name: string, family: Family): void {
    const lookups = this.#lookups;
    lookups.working(1);
    let shared = false;
    flightsOf(this.#plan.resolver).do(
      addressKey(family, name),
      (signal) => this.#plan.resolver.lookup(name, family, { signal }),
      { signal: lookups.signal, onSettled: (s) => void (shared = s) },
    ).then(
      ({ value }) => {
        lookups.working(-1);
        if (this.#sink.settled) return;
        const addrs = cleanAnswer(value, family);
        const reported = this.#report(name, family, {
          addrs,
          coalesced: shared,
          cached: isCached(value),
        });
        if (!reported) return;
        this.#resolution.addressAnswer(name, family, addrs);
        this.#update();
      },
      (reason: unknown) => {
        lookups.working(-1);
        if (this.#sink.settled) return;
        const error = toDNSError(reason, name);
        const reported = this.#report(name, family, {
          error,
          coalesced: shared,
          cached: isCached(reason),
        });
        if (!reported) return;
        this.#resolution.addressFailed(name, family);
        this.#update();
      },
    );
  }

  /**
   * Fires dnsAnswer for a service answer (`family: "service"`, with its
   * records) or for the lookup of a target name's addresses.
   *
   * @returns False when the hook ended the dial.
   */
  #report(
    name: string,
    family: Family | "service",
    answer: ReportedAnswer,
  ): boolean {
    const trace = this.#plan.trace;
    if (trace?.dnsAnswer === undefined) return true;
    const info: DNSAnswerInfo = {
      host: this.#plan.host,
      family,
      name,
      addrs: answer.addrs?.slice() ?? [],
      coalesced: answer.coalesced,
      cached: answer.cached,
    };
    if (family === "service") info.records = ownCopy(answer.records ?? []);
    if (answer.error !== undefined) info.error = answer.error;
    callHook(trace, "dnsAnswer", info);
    return !this.#sink.settled;
  }

  /** Starts the lookups the services need and hands the scheduler the endpoints. */
  #update(): void {
    if (this.#sink.settled) return;
    const resolution = this.#resolution;
    for (const { name, family } of resolution.takeQueries()) {
      this.#lookupTarget(name, family);
    }
    const endpoints = resolution.candidates();
    // Kept across updates: a start the scheduler decides on an earlier
    // event still finds its origin.
    for (const c of endpoints) this.#byKey.set(endpointKey(c.endpoint), c);
    this.#sink.dispatch({
      type: "endpoints",
      endpoints,
      preferredAnswered: resolution.preferredAnswered(endpoints),
      serviceAnswered: resolution.serviceSettled,
      settled: !resolution.pending,
    });
  }
}
