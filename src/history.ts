/**
 * Per-host connection history (RFC 8305 §4, "stateful client"): what
 * happened to recent attempts — connected and how fast, failed, or outpaced
 * by an attempt started after it — per resolver, host name and address.
 * {@linkcode dial} reads it to sort the addresses of the next dial of the
 * same host (failed ones last, lower connect time first, used ones before
 * unused) and to derive the attempt delay from the measured connect time
 * (RFC 8305 §5).
 *
 * The store is plain data: every method takes the time from the caller, so
 * it runs on whatever clock the dial runs on.
 *
 * @module
 */

import { MAX_ATTEMPT_DELAY, MIN_ATTEMPT_DELAY } from "./happy_eyeballs.ts";

/**
 * How one attempt ended.
 *
 * @example Recording a failed attempt
 * ```ts
 * import { type AttemptOutcome, HistoryStore } from "@nettrace/nettrace";
 *
 * const store = new HistoryStore();
 * const key = { scope: store, host: "db.test", address: "127.0.0.1" };
 * const outcome: AttemptOutcome = "failed";
 * store.record(key, { outcome, now: 0 });
 * console.log(store.get(key, 1)?.outcome); // "failed"
 * ```
 */
export type AttemptOutcome =
  /** It connected (possibly after the race was won by another). */
  | "connected"
  /** The connect failed (refused, unreachable, …). */
  | "failed"
  /**
   * It was still connecting when an attempt started after it connected:
   * the race showed it slower than the other by at least the attempt delay.
   */
  | "outpaced";

/**
 * Which record: resolver scope, host name, address.
 *
 * @example One record per resolver, host and address
 * ```ts
 * import { type HistoryKey, HistoryStore } from "@nettrace/nettrace";
 *
 * const resolver = {};
 * const key: HistoryKey = { scope: resolver, host: "db.test", address: "::1" };
 * const store = new HistoryStore();
 * store.record(key, { outcome: "connected", connectTime: 3, now: 0 });
 * ```
 */
export interface HistoryKey {
  /**
   * What the answers came from — the resolver (or name server) object.
   * Records never cross scopes: the same name may mean other addresses
   * through another resolver.
   */
  readonly scope: object;
  /** The host name as looked up (lower case, ASCII). */
  readonly host: string;
  /** The address, canonical text, with `%zone` when it has one. */
  readonly address: string;
}

/**
 * What the store knows about one (scope, host, address).
 *
 * @example Reading what the store knows
 * ```ts
 * import { HistoryStore, type HistoryRecord } from "@nettrace/nettrace";
 *
 * const store = new HistoryStore();
 * const key = { scope: store, host: "db.test", address: "127.0.0.1" };
 * store.record(key, { outcome: "connected", connectTime: 12, now: 0 });
 * const record: HistoryRecord | undefined = store.get(key, 1);
 * console.log(record?.connectTime, record?.used); // 12 true
 * ```
 */
export interface HistoryRecord {
  /** How the latest attempt ended. */
  readonly outcome: AttemptOutcome;
  /**
   * The connect time of the latest attempt that connected, in ms; kept when
   * a later attempt fails.
   */
  readonly connectTime: number | undefined;
  /** Whether an attempt connected since the record was made. */
  readonly used: boolean;
  /** When the latest outcome was recorded, on the caller's clock. */
  readonly at: number;
}

/**
 * An outcome to record.
 *
 * @example Recording a connect and its time
 * ```ts
 * import { HistoryStore, type HistoryUpdate } from "@nettrace/nettrace";
 *
 * const store = new HistoryStore();
 * const key = { scope: store, host: "db.test", address: "127.0.0.1" };
 * const update: HistoryUpdate = { outcome: "connected", connectTime: 8, now: 0 };
 * store.record(key, update);
 * ```
 */
export interface HistoryUpdate {
  /** How the attempt ended. */
  outcome: AttemptOutcome;
  /** For `"connected"`: how long the connect took, in ms. */
  connectTime?: number;
  /** The time now, on the caller's clock (ms). */
  now: number;
}

/**
 * Options for {@linkcode HistoryStore}.
 *
 * @example A smaller store that forgets sooner
 * ```ts
 * import { HistoryStore, type HistoryStoreOptions } from "@nettrace/nettrace";
 *
 * const options: HistoryStoreOptions = { ttl: 60_000, maxEntries: 128 };
 * const store = new HistoryStore(options);
 * ```
 */
export interface HistoryStoreOptions {
  /**
   * How long a record counts after its latest update, in ms. RFC 8305 §4
   * leaves it open; 10 minutes forgets a broken path soon after it is
   * repaired.
   * @default {600_000}
   */
  ttl?: number;
  /**
   * At most this many records; the least recently updated go first.
   * @default {1024}
   */
  maxEntries?: number;
  /**
   * The least attempt delay derived from a measured connect time, in ms:
   * at least 10 (RFC 8305 §5's floor), by default the 100 ms it
   * recommends.
   * @default {100}
   */
  minAttemptDelay?: number;
}

/**
 * Default of {@linkcode HistoryStoreOptions.ttl}: 10 minutes.
 *
 * @example A record expires after the TTL
 * ```ts
 * import { DEFAULT_HISTORY_TTL, HistoryStore } from "@nettrace/nettrace";
 *
 * const store = new HistoryStore();
 * const key = { scope: store, host: "db.test", address: "127.0.0.1" };
 * store.record(key, { outcome: "failed", now: 0 });
 * console.log(store.get(key, DEFAULT_HISTORY_TTL + 1)); // undefined
 * ```
 */
export const DEFAULT_HISTORY_TTL = 600_000;
/**
 * Default of {@linkcode HistoryStoreOptions.maxEntries}.
 *
 * @example A store for many hosts
 * ```ts
 * import { DEFAULT_HISTORY_MAX_ENTRIES, HistoryStore } from "@nettrace/nettrace";
 *
 * const store = new HistoryStore({ maxEntries: 8 * DEFAULT_HISTORY_MAX_ENTRIES });
 * ```
 */
export const DEFAULT_HISTORY_MAX_ENTRIES = 1024;
/**
 * Default of {@linkcode HistoryStoreOptions.minAttemptDelay}: RFC 8305 §5's
 * recommended minimum Connection Attempt Delay.
 *
 * @example The floor of a derived delay
 * ```ts
 * import {
 *   attemptDelayFromConnectTime,
 *   DEFAULT_HISTORY_MIN_ATTEMPT_DELAY,
 * } from "@nettrace/nettrace";
 *
 * const delay = attemptDelayFromConnectTime(1);
 * console.log(delay === DEFAULT_HISTORY_MIN_ATTEMPT_DELAY); // true
 * ```
 */
export const DEFAULT_HISTORY_MIN_ATTEMPT_DELAY = 100;

/**
 * The attempt delay derived from a measured connect time: twice it (a
 * connect is one round trip; the second leaves room for jitter), at least
 * `minAttemptDelay` (never below 10 ms) and at most 2 s (RFC 8305 §5).
 *
 * @param connectTime The measured connect time in ms.
 * @param options The floor: `minAttemptDelay`, by default 100.
 * @returns The delay in ms.
 * @throws {RangeError} If `connectTime` is negative or not a number, or
 * `minAttemptDelay` is below 10 or above 2000.
 *
 * @example Delays from connect times
 * ```ts
 * import { attemptDelayFromConnectTime } from "@nettrace/nettrace";
 *
 * attemptDelayFromConnectTime(0.4); // 100: the floor
 * attemptDelayFromConnectTime(180); // 360
 * attemptDelayFromConnectTime(1500); // 2000: the ceiling
 * attemptDelayFromConnectTime(2, { minAttemptDelay: 10 }); // 10
 * ```
 */
export function attemptDelayFromConnectTime(
  connectTime: number,
  options?: { minAttemptDelay?: number },
): number {
  if (typeof connectTime !== "number" || !(connectTime >= 0)) {
    throw new RangeError(
      `Cannot derive an attempt delay from connect time ${connectTime}: it must be a number of ms ≥ 0`,
    );
  }
  const floor = checkMinDelay(
    options?.minAttemptDelay ?? DEFAULT_HISTORY_MIN_ATTEMPT_DELAY,
  );
  return Math.min(MAX_ATTEMPT_DELAY, Math.max(floor, 2 * connectTime));
}

function checkMinDelay(value: number): number {
  if (
    typeof value !== "number" || !(value >= MIN_ATTEMPT_DELAY) ||
    value > MAX_ATTEMPT_DELAY
  ) {
    throw new RangeError(
      `Cannot use minAttemptDelay ${value}: it must be a number of ms from ${MIN_ATTEMPT_DELAY} to ${MAX_ATTEMPT_DELAY}`,
    );
  }
  return value;
}

/** What {@linkcode HistoryStore.host} returns for a host it knows nothing of. */
const NO_RECORDS: ReadonlyMap<string, HistoryRecord> = new Map();

/** One record, in the store's recency order and under its host. */
interface Entry {
  /** The records of its scope, by host, then by address. */
  readonly hosts: Map<string, Map<string, Entry>>;
  readonly host: string;
  readonly address: string;
  record: HistoryRecord;
}

function checkScope(scope: object): void {
  if (
    scope === null ||
    (typeof scope !== "object" && typeof scope !== "function")
  ) {
    throw new TypeError("Cannot use a history scope that is not an object");
  }
}

/**
 * A bounded store of recent attempt outcomes per (resolver scope, host,
 * address), each kept for `ttl` ms after its latest update.
 *
 * Give each dialer its own (`dial()` does by default: one per `Dialer`
 * object); it is never process-global, and records never cross resolvers.
 * Pass `history: false` to a dial to neither read nor write one.
 *
 * @example Recording and reading outcomes
 * ```ts
 * import { HistoryStore } from "@nettrace/nettrace";
 *
 * const history = new HistoryStore();
 * const scope = {}; // in a dial: the resolver
 * history.record({ scope, host: "db.test", address: "2001:db8::1" }, { outcome: "outpaced", now: 250 });
 * history.record({ scope, host: "db.test", address: "192.0.2.1" }, { outcome: "connected", connectTime: 3, now: 253 });
 * history.get({ scope, host: "db.test", address: "192.0.2.1" }, 1_000)?.connectTime; // 3
 * history.attemptDelay(3); // 100
 * history.get({ scope, host: "db.test", address: "192.0.2.1" }, 700_000); // undefined: expired
 * ```
 */
export class HistoryStore {
  readonly #ttl: number;
  readonly #maxEntries: number;
  readonly #minAttemptDelay: number;
  /**
   * Every entry, least recently updated first (a Set keeps insertion
   * order; an update moves its entry to the end).
   */
  readonly #entries = new Set<Entry>();
  /** The entry updated last: updating it again keeps the order as it is. */
  #newest: Entry | undefined;
  /** The entries of each scope, by host, then by address. */
  #scopes = new WeakMap<object, Map<string, Map<string, Entry>>>();

  /**
   * Creates an empty store.
   *
   * @param options The TTL, the size bound and the attempt-delay floor.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(options?: HistoryStoreOptions) {
    const ttl = options?.ttl ?? DEFAULT_HISTORY_TTL;
    if (typeof ttl !== "number" || !(ttl >= 0)) {
      throw new RangeError(
        `Cannot use ttl ${ttl}: it must be a number of ms ≥ 0`,
      );
    }
    const max = options?.maxEntries ?? DEFAULT_HISTORY_MAX_ENTRIES;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(
        `Cannot use maxEntries ${max}: it must be an integer ≥ 1`,
      );
    }
    this.#ttl = ttl;
    this.#maxEntries = max;
    this.#minAttemptDelay = checkMinDelay(
      options?.minAttemptDelay ?? DEFAULT_HISTORY_MIN_ATTEMPT_DELAY,
    );
  }

  /** How long a record counts after its latest update, in ms. */
  get ttl(): number {
    return this.#ttl;
  }

  /** How many records are held (expired ones included until looked at). */
  get size(): number {
    return this.#entries.size;
  }

  /** The least attempt delay derived from a connect time, in ms. */
  get minAttemptDelay(): number {
    return this.#minAttemptDelay;
  }

  #fresh(record: HistoryRecord, now: number): boolean {
    // A record from the future (another clock) counts as expired.
    return now >= record.at && now - record.at < this.#ttl;
  }

  #delete(entry: Entry): void {
    this.#entries.delete(entry);
    if (this.#newest === entry) this.#newest = undefined;
    const byAddress = entry.hosts.get(entry.host);
    if (byAddress === undefined) return;
    byAddress.delete(entry.address);
    if (byAddress.size === 0) entry.hosts.delete(entry.host);
  }

  /** The entry of (scope, host, address), expired or not. */
  #entry(key: HistoryKey): Entry | undefined {
    checkScope(key.scope);
    return this.#scopes.get(key.scope)?.get(key.host)?.get(key.address);
  }

  /**
   * Records how an attempt ended. A connect keeps its connect time and
   * marks the address used; a later failure keeps both.
   *
   * @param key Which (scope, host, address).
   * @param update The outcome, the connect time, the time now.
   * @throws {TypeError} If the scope is not an object or the outcome unknown.
   * @throws {RangeError} If a connect time or `now` is not a finite number.
   */
  record(key: HistoryKey, update: HistoryUpdate): void {
    const { outcome, now } = update;
    if (
      outcome !== "connected" && outcome !== "failed" && outcome !== "outpaced"
    ) {
      throw new TypeError(`Cannot record outcome ${String(outcome)}`);
    }
    if (typeof now !== "number" || !Number.isFinite(now)) {
      throw new RangeError(`Cannot record at time ${now}: not a finite number`);
    }
    const connectTime = update.connectTime;
    if (
      outcome === "connected" &&
      (typeof connectTime !== "number" || !(connectTime >= 0) ||
        !Number.isFinite(connectTime))
    ) {
      throw new RangeError(
        `Cannot record connect time ${connectTime}: it must be a finite number of ms ≥ 0`,
      );
    }
    const old = this.#entry(key);
    const previous = old !== undefined && this.#fresh(old.record, now)
      ? old.record
      : undefined;
    const record: HistoryRecord = outcome === "connected"
      ? { outcome, connectTime, used: true, at: now }
      : {
        outcome,
        connectTime: previous?.connectTime,
        used: previous?.used ?? false,
        at: now,
      };
    if (old !== undefined) {
      // Updated in place, moved to the end of the recency order (where it
      // is already when it was the last one updated).
      old.record = record;
      if (old !== this.#newest) {
        this.#entries.delete(old);
        this.#entries.add(old);
        this.#newest = old;
      }
      return;
    }
    const { scope, host, address } = key;
    let hosts = this.#scopes.get(scope);
    if (hosts === undefined) {
      hosts = new Map();
      this.#scopes.set(scope, hosts);
    }
    let byAddress = hosts.get(host);
    if (byAddress === undefined) {
      byAddress = new Map();
      hosts.set(host, byAddress);
    }
    const entry: Entry = { hosts, host, address, record };
    byAddress.set(address, entry);
    this.#entries.add(entry);
    this.#newest = entry;
    while (this.#entries.size > this.#maxEntries) {
      this.#delete(this.#entries.values().next().value!);
    }
  }

  /**
   * The record of one (scope, host, address), if it has not expired.
   *
   * @param key Which (scope, host, address).
   * @param now The time now, on the clock the records were made with.
   * @returns The record, or undefined.
   */
  get(key: HistoryKey, now: number): HistoryRecord | undefined {
    const entry = this.#entry(key);
    if (entry === undefined) return undefined;
    if (!this.#fresh(entry.record, now)) {
      this.#delete(entry);
      return undefined;
    }
    return entry.record;
  }

  /**
   * Every live record of one host through one scope, by address.
   *
   * @param scope The resolver (or other scope object).
   * @param host The host name as looked up.
   * @param now The time now.
   * @returns A map from address to record, the caller's to keep; empty
   * (and shared) when there is none.
   */
  host(
    scope: object,
    host: string,
    now: number,
  ): ReadonlyMap<string, HistoryRecord> {
    checkScope(scope);
    const byAddress = this.#scopes.get(scope)?.get(host);
    if (byAddress === undefined) return NO_RECORDS;
    const out = new Map<string, HistoryRecord>();
    // Deleting the entry being visited is safe in a Map's iteration.
    for (const entry of byAddress.values()) {
      if (this.#fresh(entry.record, now)) out.set(entry.address, entry.record);
      else this.#delete(entry);
    }
    return out;
  }

  /**
   * The attempt delay for an address whose connect took `connectTime` ms:
   * {@linkcode attemptDelayFromConnectTime} with this store's floor.
   *
   * @param connectTime The measured connect time in ms.
   * @returns The delay in ms, from `minAttemptDelay` to 2000.
   * @throws {RangeError} If `connectTime` is negative or not a number.
   */
  attemptDelay(connectTime: number): number {
    return attemptDelayFromConnectTime(connectTime, {
      minAttemptDelay: this.#minAttemptDelay,
    });
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
    this.#newest = undefined;
    this.#scopes = new WeakMap();
  }
}
