// A virtual clock for exact-time tests, plus a scripted resolver and dialer
// that run on it. Nothing here sleeps: time moves only when a test says so.

import type {
  Clock,
  ConnectOptions,
  Dialer,
  Endpoint,
  Family,
  IPAddr,
  LookupOptions,
  Resolver,
  StartTLSOptions,
  TLSErrorKind,
  TLSResult,
} from "../mod.ts";
import {
  DNSError,
  formatEndpoint,
  parseIP,
  SyscallError,
  TLSError,
} from "../mod.ts";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Lets every pending promise continuation run (one macrotask turn). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A clock whose time moves only in `advance`/`runAll`. */
export class VirtualClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers = new Map<number, Timer>();

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.#timers.set(id, { at: this.#now + delay, seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.#timers.size;
  }

  #next(limit: number): [number, Timer] | undefined {
    let best: [number, Timer] | undefined;
    for (const entry of this.#timers) {
      const t = entry[1];
      if (t.at > limit) continue;
      if (
        best === undefined || t.at < best[1].at ||
        (t.at === best[1].at && t.seq < best[1].seq)
      ) best = entry;
    }
    return best;
  }

  /** Runs every timer due up to `at`, in order, letting promises settle between. */
  async advanceTo(at: number): Promise<void> {
    await flush();
    for (;;) {
      const next = this.#next(at);
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
      await flush();
    }
    if (at > this.#now) this.#now = at;
    await flush();
  }

  /** Advances by `ms`. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.#now + ms);
  }

  /** Runs timers until none is left (or `limit` ms of virtual time). */
  async runAll(limit = 3_600_000): Promise<void> {
    await flush();
    for (;;) {
      const next = this.#next(limit);
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
      await flush();
    }
  }
}

/** One family's scripted answer. */
export type Answer =
  /** Addresses (possibly none) at time `at`. */
  | { at: number; addrs: string[] }
  /** NXDOMAIN (or another DNSError reason) at time `at`. */
  | { at: number; error: "nxdomain" | "servfail" | Error }
  /** Never answers. */
  | { hang: true };

/** Per host, per family: what the fake resolver answers and when. */
export type ResolverScript = Record<string, { 4?: Answer; 6?: Answer }>;

/** A lookup the fake resolver received. */
export interface LookupCall {
  host: string;
  family: Family;
  at: number;
  /** Set when the lookup's signal aborted. */
  abortedAt?: number;
}

/** A resolver that answers from a script on a virtual clock. */
export class FakeResolver implements Resolver {
  readonly calls: LookupCall[] = [];
  readonly #clock: Clock;
  script: ResolverScript;

  constructor(clock: Clock, script: ResolverScript) {
    this.#clock = clock;
    this.script = script;
  }

  lookup(
    host: string,
    family: Family,
    options: LookupOptions,
  ): Promise<IPAddr[]> {
    const clock = this.#clock;
    const call: LookupCall = { host, family, at: clock.now() };
    this.calls.push(call);
    const { signal } = options;
    if (signal.aborted) return Promise.reject(signal.reason);
    const answer: Answer = this.script[host]?.[family] ??
      { at: 0, error: "nxdomain" };
    return new Promise<IPAddr[]>((resolve, reject) => {
      let timer: unknown = undefined;
      const onAbort = () => {
        call.abortedAt = clock.now();
        if (timer !== undefined) clock.clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      if ("hang" in answer) return;
      timer = clock.setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        if ("addrs" in answer) {
          resolve(answer.addrs.map((text) => {
            const ip = parseIP(text);
            if (ip === undefined) throw new Error(`bad script address ${text}`);
            return ip;
          }));
        } else if (answer.error === "nxdomain") {
          reject(new DNSError("no such host", host, { isNotFound: true }));
        } else if (answer.error === "servfail") {
          reject(
            new DNSError("server misbehaving", host, { isTemporary: true }),
          );
        } else {
          reject(answer.error);
        }
      }, Math.max(0, answer.at - clock.now()));
    });
  }
}

/** What one endpoint does when dialled. */
export type Outcome =
  /** Connects after `after` ms. */
  | { after: number; connect: true }
  /** Fails with this errno after `after` ms. */
  | { after: number; fail: string }
  /** Never answers (a dropped SYN). */
  | { hang: true };

/** What one endpoint's TLS handshake does (see `FakeDialer.tls`). */
export type TLSOutcome =
  /** Completes after `after` ms, negotiating `alpn` (default none). */
  | { after: number; alpn?: string | null }
  /** Fails with a TLSError of this kind after `after` ms. */
  | { after: number; fail: TLSErrorKind }
  /** Never answers (the server stalls after the TCP handshake). */
  | { hang: true };

/** A connection the fake dialer made. */
export interface FakeConn {
  readonly endpoint: Endpoint;
  readonly addr: string;
  closed: boolean;
  /** Set on the connection a handshake returned. */
  tls?: { serverName: string; alpnProtocol: string | null };
}

/** A handshake the fake dialer saw. */
export interface TLSCall {
  addr: string;
  at: number;
  serverName: string;
  alpnProtocols?: string[];
  abortedAt?: number;
  settledAt?: number;
}

/** An attempt the fake dialer saw. */
export interface ConnectCall {
  addr: string;
  at: number;
  /** When its signal aborted, if it did. */
  abortedAt?: number;
  /** When it connected or failed, if it did. */
  settledAt?: number;
}

/** A dialer whose endpoints behave as scripted, on a virtual clock. */
export class FakeDialer implements Dialer<FakeConn> {
  readonly calls: ConnectCall[] = [];
  readonly conns: FakeConn[] = [];
  readonly #clock: Clock;
  outcomes: Record<string, Outcome>;
  /** The outcome of endpoints not in `outcomes`. */
  fallback: Outcome;

  constructor(
    clock: Clock,
    outcomes: Record<string, Outcome>,
    fallback: Outcome = { hang: true },
  ) {
    this.#clock = clock;
    this.outcomes = outcomes;
    this.fallback = fallback;
  }

  /** The address and start time of every attempt, as `addr@t`. */
  get starts(): string[] {
    return this.calls.map((c) => `${c.addr}@${c.at}`);
  }

  /** Connections still open. */
  get open(): FakeConn[] {
    return this.conns.filter((c) => !c.closed);
  }

  connect(endpoint: Endpoint, options: ConnectOptions): Promise<FakeConn> {
    const clock = this.#clock;
    const addr = formatEndpoint(endpoint);
    const call: ConnectCall = { addr, at: clock.now() };
    this.calls.push(call);
    const { signal } = options;
    if (signal.aborted) return Promise.reject(signal.reason);
    const outcome = this.outcomes[addr] ?? this.fallback;
    return new Promise<FakeConn>((resolve, reject) => {
      let timer: unknown = undefined;
      const onAbort = () => {
        call.abortedAt = clock.now();
        if (timer !== undefined) clock.clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      if ("hang" in outcome) return;
      timer = clock.setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        call.settledAt = clock.now();
        if ("connect" in outcome) {
          const conn: FakeConn = { endpoint, addr, closed: false };
          this.conns.push(conn);
          resolve(conn);
        } else {
          reject(new SyscallError("connect", outcome.fail));
        }
      }, outcome.after);
    });
  }

  close(conn: FakeConn): void {
    conn.closed = true;
  }

  /** Handshakes by address; endpoints not listed complete at once. */
  tls: Record<string, TLSOutcome> = {};
  readonly tlsCalls: TLSCall[] = [];

  startTls(
    conn: FakeConn,
    options: StartTLSOptions,
  ): Promise<TLSResult<FakeConn>> {
    const clock = this.#clock;
    const call: TLSCall = {
      addr: conn.addr,
      at: clock.now(),
      serverName: options.serverName,
    };
    if (options.alpnProtocols !== undefined) {
      call.alpnProtocols = options.alpnProtocols;
    }
    this.tlsCalls.push(call);
    const { signal } = options;
    if (signal.aborted) {
      conn.closed = true;
      return Promise.reject(signal.reason);
    }
    const outcome = this.tls[conn.addr] ?? { after: 0 };
    return new Promise<TLSResult<FakeConn>>((resolve, reject) => {
      let timer: unknown = undefined;
      const onAbort = () => {
        call.abortedAt = clock.now();
        if (timer !== undefined) clock.clearTimeout(timer);
        conn.closed = true;
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      if ("hang" in outcome) return;
      timer = clock.setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        call.settledAt = clock.now();
        if ("fail" in outcome) {
          conn.closed = true;
          reject(
            new TLSError(`tls: scripted ${outcome.fail} failure`, {
              kind: outcome.fail,
            }),
          );
          return;
        }
        const alpnProtocol = outcome.alpn ?? null;
        const tlsConn: FakeConn = {
          endpoint: conn.endpoint,
          addr: conn.addr,
          closed: false,
          tls: { serverName: options.serverName, alpnProtocol },
        };
        // The TCP connection now belongs to the TLS one.
        conn.closed = true;
        this.conns.push(tlsConn);
        resolve({ conn: tlsConn, alpnProtocol, tlsVersion: "TLSv1.3" });
      }, outcome.after);
    });
  }
}

/** A trace that records every hook call as a line, with the virtual time. */
export function recordingTrace(clock: Clock, log: string[]) {
  return {
    dnsStart: (i: { host: string }) =>
      log.push(`${clock.now()} dnsStart ${i.host}`),
    dnsDone: (
      i: { host: string; addrs: IPAddr[]; coalesced: boolean; error?: Error },
    ) =>
      log.push(
        `${clock.now()} dnsDone ${i.host} [${
          i.addrs.map((a) => a.address).join(",")
        }]${i.coalesced ? " coalesced" : ""}${
          i.error ? ` error=${i.error.message}` : ""
        }`,
      ),
    connectStart: (i: { network: string; addr: string }) =>
      log.push(`${clock.now()} connectStart ${i.network} ${i.addr}`),
    connectDone: (i: { network: string; addr: string; error?: Error }) =>
      log.push(
        `${clock.now()} connectDone ${i.network} ${i.addr}${
          i.error ? ` error=${i.error.message}` : ""
        }`,
      ),
  };
}
