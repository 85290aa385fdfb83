/**
 * The Happy Eyeballs v3 scenarios of the cross-runtime comparison
 * (bench/compare.ts), both through the DNS fixture on loopback:
 *
 *   hev3-hints     A and AAAA answered 2 s late, the HTTPS record at once
 *                  with ipv4hint/ipv6hint: nettrace with `service: "https"`
 *                  beside the runtime's connect (which waits for A/AAAA)
 *   hev3-overhead  a name with A/AAAA and no HTTPS record (NODATA): the
 *                  dial with `service: "https"` vs without, interleaved
 *
 * @module
 */

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
  interleaved(
    variants: Hev3Variant[],
    options: { warmup: number; rounds: number },
  ): Promise<Row[]>;
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

const OVERHEAD_NAME = "plain.hev3.bench.test";

/** Scenario hev3-overhead. */
export async function scenarioHev3Overhead(
  { adapter, listener }: { adapter: Adapter; listener: ListenerProcess },
  measure: Hev3Measure,
): Promise<ScenarioResult> {
  const port = listener.port;
  // No HTTPS record: the fixture answers NODATA. TTL 0: every dial asks.
  const server = await measure.startDns({
    [OVERHEAD_NAME]: { A: ["127.0.0.1"], AAAA: ["::1"], ttl: 0 },
  });
  try {
    const resolver = adapter.createResolver({
      nameServer: server.nameServer,
    });
    const address = `${OVERHEAD_NAME}:${port}`;
    const rows = await measure.interleaved([
      // Named "native" so that the ratios are to the dial without service.
      { name: "native", run: () => adapter.dial(address, { resolver }) },
      {
        name: "nettrace, service https",
        run: () => adapter.dial(address, { resolver, service: "https" }),
      },
    ], { warmup: measure.n(50, 5), rounds: measure.n(400, 20) });
    rows[0]!.name = "nettrace, no service";
    return {
      id: "hev3-overhead",
      title:
        "HEv3: cost of the HTTPS query on a name without HTTPS records (DNS fixture)",
      method:
        'One name with A 127.0.0.1 and AAAA ::1 and no HTTPS record (the fixture answers NODATA), TTL 0 so every dial asks, through nettrace\'s name-server resolver pointed at the loopback DNS fixture. The dial without `service` and the dial with `service: "https"` (A, AAAA and HTTPS asked at once), interleaved in one process; the ratio is of the medians (target ≤ 1.05×). Measured on a shared, loaded 2-core machine.',
      rows,
    };
  } finally {
    await server.close();
  }
}
