/**
 * The Happy Eyeballs v3 scenarios of the cross-runtime comparison
 * (bench/compare.ts), both through the DNS fixture on loopback:
 *
 *   hev3-hints     A and AAAA answered 2 s late, the HTTPS record at once
 *                  with ipv4hint/ipv6hint: nettrace with `service: "https"`
 *                  beside the runtime's connect (which waits for A/AAAA)
 *   hev3-overhead  a name with A/AAAA and no HTTPS record (NODATA): the
 *                  dial with `service: "https"` vs without, interleaved,
 *                  wall and CPU time, with the answers at once and 1 ms
 *                  and 10 ms late
 *
 * @module
 */

import process from "node:process";
import type { DnsZone } from "../tests/_dns_server.ts";
import {
  type Adapter,
  type Closable,
  type ListenerProcess,
  nativeLookupConnect,
} from "./_native.ts";
import type { Row, ScenarioResult } from "./_results.ts";

/** One way to connect, timed by the loops of bench/compare.ts. */
export interface Hev3Variant {
  name: string;
  run: () => Promise<Closable>;
}

/** The DNS fixture in its own process (bench/_dns.ts). */
export interface Hev3Dns {
  nameServer: { address: string; port: number };
  close(): Promise<void>;
}

/** The timing loops and the fixture starter, lent by bench/compare.ts. */
export interface Hev3Measure {
  interleavedOutcomes(
    variants: Hev3Variant[],
    options: { rounds: number; timeout: number; pause?: number },
  ): Promise<Row[]>;
  /** `full` normally, `quick` with NETTRACE_BENCH_QUICK=1. */
  n(full: number, quick: number): number;
  startDns(zone: DnsZone): Promise<Hev3Dns>;
}

const DELAY = 2000;
const NAMES = 10;

/**
 * Names `n0.hints.bench.test`… (native) and `t0.hints.bench.test`…
 * (nettrace), a fresh one per round so that no cache answers from the
 * round before; A and AAAA late, the HTTPS record at once with hints. The
 * listener is not on 443, so the HTTPS record sits at `_PORT._https.NAME`
 * (RFC 9460 §9.1, where a client asks for a port other than 443) and
 * names the host as its target and the listener's port.
 */
function hintsZone(port: number): DnsZone {
  const zone: DnsZone = {};
  for (let i = 0; i < NAMES; i++) {
    for (const side of ["n", "t"]) {
      const name = `${side}${i}.hints.bench.test`;
      zone[name] = {
        A: ["127.0.0.1"],
        AAAA: ["::1"],
        delay: { A: DELAY, AAAA: DELAY },
        ttl: 0,
      };
      zone[`_${port}._https.${name}`] = {
        HTTPS: [{
          priority: 1,
          target: name,
          port,
          ipv4hint: ["127.0.0.1"],
          ipv6hint: ["::1"],
        }],
        ttl: 0,
      };
    }
  }
  return zone;
}

function names(side: "n" | "t"): () => string {
  let i = 0;
  return () => `${side}${i++ % NAMES}.hints.bench.test`;
}

/** Scenario hev3-hints. */
export async function scenarioHev3Hints(
  { adapter, listener }: { adapter: Adapter; listener: ListenerProcess },
  measure: Hev3Measure,
): Promise<ScenarioResult> {
  const port = listener.port;
  const server = await measure.startDns(hintsZone(port));
  try {
    const resolver = adapter.createResolver({
      nameServer: server.nameServer,
    });
    const nativeName = names("n");
    const nettraceName = names("t");
    const rows = await measure.interleavedOutcomes([
      {
        name: "native",
        run: () => nativeLookupConnect(nativeName(), server.nameServer, port),
      },
      {
        name: "nettrace, service https",
        run: () =>
          adapter.dial(`${nettraceName()}:${port}`, {
            resolver,
            service: "https",
          }),
      },
    ], { rounds: measure.n(5, 1), timeout: 10_000 });
    return {
      id: "hev3-hints",
      title:
        "HEv3: A and AAAA 2 s late, HTTPS record at once with ipv4hint/ipv6hint (DNS fixture)",
      method:
        'Through the loopback DNS fixture, a fresh name each round. The HTTPS record (answered at once; at `_PORT._https.NAME`, as the listener is not on 443) carries ipv4hint=127.0.0.1 and ipv6hint=::1; A and AAAA are answered 2 s late. native: A and AAAA asked at once (Deno.resolveDns on Deno, node:dns Resolver#setServers on Bun and Node), waiting for both as getaddrinfo does, then the runtime\'s connect (no runtime reads HTTPS records). nettrace: `service: "https"` with its name-server resolver pointed at the fixture; the hints stand in for the late A/AAAA answers, so it connects without waiting for them (within the Resolution Delay, 50 ms, plus one attempt).',
      rows,
    };
  } finally {
    await server.close();
  }
}

/**
 * The overhead names: answered at once, and with every answer (A, AAAA and
 * the HTTPS NODATA) 1 ms and 10 ms late, as a name server a little and
 * further away would answer; TTL 0, so every dial asks.
 */
const OVERHEAD_DELAYS = [0, 1, 10] as const;

function overheadName(delay: number): string {
  return delay === 0 ? "plain.hev3.bench.test" : `d${delay}.hev3.bench.test`;
}

/**
 * No HTTPS record: the name has A and AAAA, and `_PORT._https.NAME` (what
 * a dial to a port other than 443 asks for, RFC 9460 §9.1) exists without
 * records, so the service query is answered NODATA, as the HTTPS query of
 * a name without HTTPS records on port 443 is.
 */
function overheadZone(port: number): DnsZone {
  const zone: DnsZone = {};
  for (const delay of OVERHEAD_DELAYS) {
    const late = delay === 0
      ? undefined
      : { A: delay, AAAA: delay, HTTPS: delay };
    const name = overheadName(delay);
    zone[name] = { A: ["127.0.0.1"], AAAA: ["::1"], ttl: 0, delay: late };
    zone[`_${port}._https.${name}`] = { ttl: 0, delay: late };
  }
  return zone;
}

/** The process's CPU time (user + system, all threads), in µs. */
function cpuTime(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

function median(sorted: number[]): number {
  return sorted[Math.ceil(sorted.length / 2) - 1]!;
}

/**
 * The two dials (without and with `service`) in interleaved rounds of
 * `dials` sequential dials each, the order swapped every round; a sample
 * is one round's wall time and process CPU time per dial. Rows: medians of
 * the rounds; the ratio (wall) and the CPU ratio are to the first row.
 */
async function overheadPair(
  variants: [Hev3Variant, Hev3Variant],
  options: { warmup: number; rounds: number; dials: number },
): Promise<Row[]> {
  const wall: number[][] = [[], []];
  const cpu: number[][] = [[], []];
  for (let round = 0; round < options.warmup + options.rounds; round++) {
    for (let k = 0; k < 2; k++) {
      const i = (round + k) % 2;
      const c0 = cpuTime();
      const t0 = performance.now();
      for (let d = 0; d < options.dials; d++) {
        (await variants[i]!.run()).close();
      }
      const ms = (performance.now() - t0) / options.dials;
      const us = (cpuTime() - c0) / options.dials;
      if (round >= options.warmup) {
        wall[i]!.push(ms);
        cpu[i]!.push(us);
      }
    }
  }
  const rows = variants.map((v, i): Row => {
    const sorted = wall[i]!.slice().sort((a, b) => a - b);
    const cpuSorted = cpu[i]!.slice().sort((a, b) => a - b);
    return {
      name: v.name,
      median: median(sorted),
      p95: sorted[
        Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)
      ]!,
      samples: sorted.length,
      extra: { "CPU µs per dial": Number(median(cpuSorted).toFixed(1)) },
    };
  });
  const base = rows[0]!;
  const cpuBase = base.extra!["CPU µs per dial"] as number;
  for (const r of rows) {
    r.ratio = r.median / base.median;
    const c = r.extra!["CPU µs per dial"] as number;
    r.extra!["CPU ratio"] = Number((c / cpuBase).toFixed(3));
    r.extra!["CPU µs over no service"] = Number((c - cpuBase).toFixed(1));
  }
  return rows;
}

/** Scenario hev3-overhead. */
export async function scenarioHev3Overhead(
  { adapter, listener }: { adapter: Adapter; listener: ListenerProcess },
  measure: Hev3Measure,
): Promise<ScenarioResult> {
  const port = listener.port;
  const server = await measure.startDns(overheadZone(port));
  try {
    const resolver = adapter.createResolver({
      nameServer: server.nameServer,
    });
    const rows: Row[] = [];
    for (const delay of OVERHEAD_DELAYS) {
      const address = `${overheadName(delay)}:${port}`;
      const late = delay === 0 ? "" : `, answers ${delay} ms late`;
      // Rounds of 10 dials at once-answered, fewer as each dial waits.
      const dials = delay === 0 ? 10 : delay === 1 ? 5 : 2;
      const rounds = delay === 0 ? 100 : delay === 1 ? 60 : 40;
      for (
        const row of await overheadPair([
          {
            name: `nettrace, no service${late}`,
            run: () => adapter.dial(address, { resolver }),
          },
          {
            name: `nettrace, service https${late}`,
            run: () => adapter.dial(address, { resolver, service: "https" }),
          },
        ], {
          warmup: measure.n(10, 1),
          rounds: measure.n(rounds, 3),
          dials,
        })
      ) rows.push(row);
    }
    return {
      id: "hev3-overhead",
      title:
        "HEv3: cost of the HTTPS query on a name without HTTPS records (DNS fixture)",
      method:
        "One name with A 127.0.0.1 and AAAA ::1 and no HTTPS record (the fixture answers the HTTPS query for `_PORT._https.NAME` with NODATA), TTL 0 so every dial asks, through nettrace's name-server resolver pointed at the loopback DNS fixture (another process). The dial without `service` and the dial with `service: \"https\"` (HTTPS, AAAA and A asked at once), in interleaved rounds of sequential dials (10, 5 and 2 per round) in one process; a sample is a round's wall time per dial, with its process CPU time (user + system) per dial beside it. Three settings: answered at once (a sub-millisecond dial: the extra query is pure CPU), and every answer 1 ms and 10 ms late (a name server nearby and further away: the three queries wait in parallel). Ratios are of medians, to the dial without `service` of the same setting (target ≤ 1.05×). Measured on a shared, loaded 2-core machine.",
      rows,
    };
  } finally {
    await server.close();
  }
}
