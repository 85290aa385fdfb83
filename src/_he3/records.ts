/**
 * Service (SVCB/HTTPS, RFC 9460) records as Happy Eyeballs v3 uses them:
 * AliasMode chains followed (bounded, loops refused), ServiceMode records
 * filtered by ALPN and ordered by priority (equal priorities shuffled), and
 * the names whose addresses they need.
 *
 * @module
 */

import { AddrError, DNSError } from "../errors.ts";
import { lookupKey, lookupName } from "../hostname.ts";
import type { ServiceRecord } from "../types.ts";
import { offeredAlpn } from "./alpn.ts";

/**
 * How many AliasMode records one dial follows (RFC 9460 §3: "subject to
 * chain length limits"; Chromium and Firefox stop at 8 as well).
 */
export const MAX_ALIAS_CHAIN = 8;

/**
 * How many records of one answer are read: a huge answer cannot make a
 * dial plan (and query for) thousands of services.
 */
export const MAX_SERVICE_RECORDS = 32;

/** How many different target names one dial queries addresses for. */
export const MAX_SERVICE_TARGETS = 8;

/** A random source in [0, 1), as `Math.random`. */
export type RandomSource = () => number;

/** What to do with one service answer of an alias chain. */
export type AliasStep =
  /** An AliasMode record: query the service records of `name` next. */
  | { type: "follow"; name: string }
  /**
   * The chain ended: `records` are its ServiceMode records (none when the
   * name has none), `name` the name `"."` targets stand for.
   */
  | { type: "services"; name: string; records: ServiceRecord[] }
  /** The chain loops or is too long. */
  | { type: "error"; error: DNSError };

/** Whether `value` is a record priority: an integer in [0, 65535]. */
function isPriority(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 &&
    value <= 65535;
}

/**
 * The name a record's TargetName stands for, in lookup form, or undefined
 * when it is not a usable domain name.
 *
 * @param target The TargetName as the resolver gave it.
 * @param owner The name `"."` stands for.
 */
export function targetName(
  target: unknown,
  owner: string,
): string | undefined {
  if (typeof target !== "string" || target === "") return undefined;
  if (target === ".") return owner;
  const bare = target.endsWith(".") ? target.slice(0, -1) : target;
  try {
    return lookupKey(lookupName(bare));
  } catch (error) {
    if (error instanceof AddrError) return undefined;
    throw error;
  }
}

/**
 * Follows the AliasMode records of one dial's service lookup (RFC 9460 §3
 * step 3), from the dialled host: at most {@linkcode MAX_ALIAS_CHAIN}
 * aliases, a name seen before is a loop.
 */
export class AliasChain {
  readonly #host: string;
  readonly #seen: Set<string>;
  #name: string;
  #aliases = 0;

  /**
   * @param host The dialled host, in lookup form.
   */
  constructor(host: string) {
    this.#host = host;
    this.#name = host;
    this.#seen = new Set([lookupKey(host)]);
  }

  /** The name whose service records are asked for now. */
  get name(): string {
    return this.#name;
  }

  /** How many AliasMode records were followed. */
  get aliases(): number {
    return this.#aliases;
  }

  /**
   * Takes the answer for {@linkcode name}.
   *
   * RFC 9460 §2.4.2: a set with an AliasMode record is an alias (its
   * ServiceMode records are ignored); of several AliasMode records one is
   * picked at random. An AliasMode TargetName of `"."` says the service
   * does not exist (§2.5.1): the chain ends with no records.
   *
   * @param records The records of the answer.
   * @param random Picks among several AliasMode records.
   * @returns What to do next.
   */
  take(records: readonly ServiceRecord[], random: RandomSource): AliasStep {
    const aliases: ServiceRecord[] = [];
    const services: ServiceRecord[] = [];
    const count = Math.min(records.length, MAX_SERVICE_RECORDS);
    for (let i = 0; i < count; i++) {
      const record = records[i];
      if (record === null || typeof record !== "object") continue;
      if (!isPriority(record.priority)) continue;
      (record.priority === 0 ? aliases : services).push(record);
    }
    if (aliases.length === 0) {
      return { type: "services", name: this.#name, records: services };
    }
    const alias = aliases[pick(aliases.length, random)]!;
    if (alias.target === ".") {
      return { type: "services", name: this.#name, records: [] };
    }
    const next = targetName(alias.target, this.#name);
    if (next === undefined) {
      return { type: "services", name: this.#name, records: [] };
    }
    if (this.#aliases >= MAX_ALIAS_CHAIN) {
      return {
        type: "error",
        error: new DNSError(
          `service alias chain longer than ${MAX_ALIAS_CHAIN}`,
          this.#host,
        ),
      };
    }
    const key = lookupKey(next);
    if (this.#seen.has(key)) {
      return {
        type: "error",
        error: new DNSError(
          `service alias chain loops at ${next}`,
          this.#host,
        ),
      };
    }
    this.#seen.add(key);
    this.#aliases++;
    this.#name = next;
    return { type: "follow", name: next };
  }
}

/** An index in [0, length) from a random source (bad values clamped). */
function pick(length: number, random: RandomSource): number {
  const r = random();
  const i = Number.isFinite(r) ? Math.floor(r * length) : 0;
  return Math.min(length - 1, Math.max(0, i));
}

/** One usable ServiceMode record, as a dial tries it. */
export interface ServiceOption {
  /** The record as the resolver gave it. */
  readonly record: ServiceRecord;
  /** Its SvcPriority (≥ 1). */
  readonly priority: number;
  /** Its TargetName as given (`"."` kept). */
  readonly target: string;
  /** The name whose addresses it uses, in lookup form. */
  readonly name: string;
  /** The port dialled: the record's `port`, else the caller's. */
  readonly port: number;
  /** The ALPN list the TLS handshake offers; unset: none is offered. */
  readonly alpn: string[] | undefined;
  /** Its group: 0 is tried first. */
  readonly rank: number;
}

/** Options of {@linkcode planServices}. */
export interface PlanOptions {
  /** The name `"."` stands for (the dialled host or the last alias). */
  name: string;
  /** The port the caller dials. */
  port: number;
  /** The URI scheme (`"https"`). */
  scheme: string;
  /** The caller's `tls.alpnProtocols`. */
  clientAlpn: readonly string[] | undefined;
  /** Shuffles records of equal priority. */
  random: RandomSource;
}

/** What {@linkcode planServices} found. */
export interface ServicePlan {
  /** The usable records, in the order to try them. */
  options: ServiceOption[];
  /** Records not tried, and why. */
  skipped: { record: ServiceRecord; reason: string }[];
}

/** Whether `value` is a port a record may name. */
function isPort(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value > 0 &&
    value <= 65535;
}

/**
 * Orders the ServiceMode records of an answer the way the draft groups
 * endpoints (§"Grouping By Service Priority"): lowest priority first,
 * records of equal priority in random order, each with its port and ALPN.
 * Records whose SVCB ALPN set shares nothing with the client's protocols
 * (§"Handling ALPN") and records with an unusable target or port are
 * skipped.
 *
 * @param records The ServiceMode records (AliasMode ones are skipped).
 * @param options The dial's name, port, scheme, ALPN and random source.
 * @returns The usable records in order, and the skipped ones.
 */
export function planServices(
  records: readonly ServiceRecord[],
  options: PlanOptions,
): ServicePlan {
  const usable: Omit<ServiceOption, "rank">[] = [];
  const skipped: ServicePlan["skipped"] = [];
  const targets = new Set<string>();
  for (const record of records.slice(0, MAX_SERVICE_RECORDS)) {
    if (!isPriority(record.priority) || record.priority === 0) {
      skipped.push({ record, reason: "not a ServiceMode record" });
      continue;
    }
    const name = targetName(record.target, options.name);
    if (name === undefined) {
      skipped.push({ record, reason: "bad target name" });
      continue;
    }
    if (record.port !== undefined && !isPort(record.port)) {
      skipped.push({ record, reason: "bad port" });
      continue;
    }
    const alpn = offeredAlpn(record, options.scheme, options.clientAlpn);
    if (alpn === null) {
      skipped.push({ record, reason: "no ALPN in common" });
      continue;
    }
    if (!targets.has(name) && targets.size >= MAX_SERVICE_TARGETS) {
      skipped.push({ record, reason: "too many target names" });
      continue;
    }
    targets.add(name);
    usable.push({
      record,
      priority: record.priority,
      target: record.target,
      name,
      port: record.port ?? options.port,
      alpn,
    });
  }
  // Stable by priority, then each run of equal priorities shuffled
  // (Fisher–Yates): the draft's "SHOULD shuffle these groups randomly".
  usable.sort((a, b) => a.priority - b.priority);
  for (let start = 0; start < usable.length;) {
    let end = start + 1;
    while (
      end < usable.length && usable[end]!.priority === usable[start]!.priority
    ) end++;
    for (let i = end - 1; i > start; i--) {
      const j = start + pick(i - start + 1, options.random);
      [usable[i], usable[j]] = [usable[j]!, usable[i]!];
    }
    start = end;
  }
  return {
    options: usable.map((option, rank) => ({ ...option, rank })),
    skipped,
  };
}
