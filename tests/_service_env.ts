// What the virtual-clock Happy Eyeballs v3 dial tests share
// (happy_eyeballs_v3_test.ts, happy_eyeballs_v3_hooks_test.ts): a scripted
// resolver with `lookupService`, a dialer, one clock, and a dial with
// `service: "https"` whose hooks are logged with the virtual time.

import assert from "node:assert/strict";
import {
  type ConnectStartInfo,
  type CoreDialOptions,
  dial,
  type DialDoneInfo,
  type DNSAnswerInfo,
  DNSError,
  type Family,
  type LookupOptions,
  type LookupServiceOptions,
  type ServiceRecord,
} from "../mod.ts";
import {
  type FakeConn,
  FakeDialer,
  FakeResolver,
  flush,
  type Outcome,
  type ResolverScript,
  VirtualClock,
} from "./_virtual_clock.ts";
import { watch } from "./_dial_env.ts";

/** A service record with the given fields. */
export function svc(
  priority: number,
  target: string,
  extra: Partial<ServiceRecord> = {},
): ServiceRecord {
  return { priority, target, ...extra };
}

export const V6A = "2001:db8::a";
export const V6B = "2001:db8::b";
export const V4A = "192.0.2.10";
export const V4B = "192.0.2.11";

/** A scripted service answer: records, an error, or none at all. */
export type ServiceAnswer =
  | { at: number; records: ServiceRecord[] }
  | { at: number; error: "servfail" | "timeout" }
  | { hang: true };

/**
 * The fake resolver plus `lookupService`, logging every query in the
 * order sent: `HTTPS example.test@0`, `AAAA example.test@0`, …
 */
export class ServiceResolver extends FakeResolver {
  readonly queries: string[] = [];
  readonly serviceCalls: { host: string; port: number; scheme: string }[] = [];
  /** Service queries whose signal was aborted, as `host@t`. */
  readonly serviceAborts: string[] = [];
  readonly #clock: VirtualClock;
  services: Record<string, ServiceAnswer>;

  constructor(
    clock: VirtualClock,
    script: ResolverScript,
    services: Record<string, ServiceAnswer>,
  ) {
    super(clock, script);
    this.#clock = clock;
    this.services = services;
  }

  override lookup(host: string, family: Family, options: LookupOptions) {
    this.queries.push(
      `${family === 6 ? "AAAA" : "A"} ${host}@${this.#clock.now()}`,
    );
    return super.lookup(host, family, options);
  }

  lookupService(
    host: string,
    options: LookupServiceOptions,
  ): Promise<ServiceRecord[]> {
    const clock = this.#clock;
    this.queries.push(`HTTPS ${host}@${clock.now()}`);
    this.serviceCalls.push({
      host,
      port: options.port,
      scheme: options.scheme,
    });
    const { signal } = options;
    if (signal.aborted) return Promise.reject(signal.reason);
    const answer = this.services[host] ?? { at: 0, records: [] };
    return new Promise((resolve, reject) => {
      let timer: unknown = undefined;
      const onAbort = () => {
        this.serviceAborts.push(`${host}@${clock.now()}`);
        if (timer !== undefined) clock.clearTimeout(timer);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      if ("hang" in answer) return;
      timer = clock.setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        if ("records" in answer) resolve(answer.records);
        else if (answer.error === "servfail") {
          reject(
            new DNSError("server misbehaving", host, { isTemporary: true }),
          );
        } else {
          reject(new DNSError("i/o timeout", host, { isTimeout: true }));
        }
      }, Math.max(0, answer.at - clock.now()));
    });
  }
}

export interface V3Env {
  clock: VirtualClock;
  resolver: ServiceResolver;
  dialer: FakeDialer;
  log: string[];
  abort: AbortController;
}

export function v3env(
  script: ResolverScript,
  services: Record<string, ServiceAnswer>,
  outcomes: Record<string, Outcome> = {},
): V3Env {
  const clock = new VirtualClock();
  return {
    clock,
    resolver: new ServiceResolver(clock, script, services),
    dialer: new FakeDialer(clock, outcomes, { hang: true }),
    log: [],
    abort: new AbortController(),
  };
}

/**
 * A dnsAnswer as the logs show it: `30 dnsAnswer service records=2`,
 * `10 dnsAnswer 6` (the host's own), `60 dnsAnswer 6 alt.test [2001:db8::99]`
 * (a service target's), `error=…` appended on failure.
 */
export function answerLine(now: number, i: DNSAnswerInfo): string {
  const target = i.family !== "service" && i.name !== undefined
    ? ` ${i.name} [${i.addrs.map((a) => a.address).join(",")}]`
    : "";
  const records = i.records === undefined ? "" : ` records=${i.records.length}`;
  const error = i.error ? ` error=${i.error.message}` : "";
  return `${now} dnsAnswer ${i.family}${target}${records}${error}`;
}

/** Dials `example.test:443` (unless told otherwise) with `service: "https"`. */
export function v3dial(
  t: V3Env,
  options: Partial<CoreDialOptions<FakeConn>> = {},
  address = "example.test:443",
) {
  return watch(
    dial<FakeConn>(address, {
      resolver: t.resolver,
      dialer: t.dialer,
      clock: t.clock,
      signal: t.abort.signal,
      service: "https",
      trace: {
        dnsAnswer: (i: DNSAnswerInfo) =>
          t.log.push(answerLine(t.clock.now(), i)),
        connectStart: (i: ConnectStartInfo) =>
          t.log.push(
            `${t.clock.now()} connectStart ${i.addr}${
              i.service === undefined
                ? ""
                : ` service=${i.service.priority}/${i.service.target}/${
                  i.service.alpn?.join(",") ?? "-"
                }${i.service.ech ? "/ech" : ""}`
            }${i.hint === undefined ? "" : ` hint=${i.hint}`}`,
          ),
        dialDone: (i: DialDoneInfo) =>
          t.log.push(
            `${t.clock.now()} dialDone ${i.addr ?? i.error?.message}${
              i.service === undefined ? "" : ` service=${i.service.target}`
            }`,
          ),
      },
      ...options,
    }),
    t.clock,
  );
}

/** Ends a dial still racing and checks nothing is left behind. */
export async function finish(t: V3Env): Promise<void> {
  t.abort.abort(new Error("test over"));
  await flush();
  assert.equal(t.clock.pending, 0, "no timer may be left");
  assert.deepEqual(t.dialer.open, []);
}

/** example.test: AAAA [V6A, V6B] at `at6`, A [V4A, V4B] at `at4` (undefined: never). */
export const DUAL = (
  at6: number | undefined,
  at4: number | undefined,
): ResolverScript => ({
  "example.test": {
    6: at6 === undefined ? { hang: true } : { at: at6, addrs: [V6A, V6B] },
    4: at4 === undefined ? { hang: true } : { at: at4, addrs: [V4A, V4B] },
  },
});
