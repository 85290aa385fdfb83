/**
 * The cross-runtime comparison driver: the same file runs on Deno, Bun and
 * Node (`scripts/bench_compare.sh`, `npm run bench:compare`, starts it on
 * each) and measures nettrace's `dial` beside the runtime's own connect
 * (`Deno.connect`, `Bun.connect`, `net.connect` with its defaults) in the
 * same process, interleaving the two so that drift (CPU frequency, other
 * load) hits both alike. Timings are `performance.now()` around the connect
 * (the close is not timed), after a warm-up; medians and 95th percentiles.
 *
 *   <runtime> bench/compare.ts --scenarios a,b,c,... --out FILE.json
 *   <runtime> bench/compare.ts --mem native|nettrace --out FILE.json
 *   <runtime> bench/compare.ts --leak native|nettrace --out FILE.json
 *
 * Scenarios (bench/README.md explains each method):
 *   a            IP literal on loopback: native, nettrace with no trace, a
 *                no-op trace and a recording trace
 *   cycle        IP literal, connect + close cycles (bench/_cycle.ts)
 *   ablate       the cycle method, one layer per rung (bench/_cycle.ts)
 *   b-localhost  `localhost` (nettrace answers it without getaddrinfo)
 *   b-hosts      a name from /etc/hosts (namespace run only)
 *   c            1,000 concurrent dials of one name through the DNS fixture
 *   d            IPv6 dropped, IPv4 fine (namespace run only)
 *   e-fixture    AAAA answer 2 s late, A at once, through the DNS fixture
 *   e-getaddrinfo  the same through getaddrinfo (namespace run only)
 *   f            the first SYN of every connection dropped on 4 addresses
 *                of both families (namespace run only)
 *   scheduler    HappyEyeballs steps per second, 2/8/64 endpoints
 *   singleflight 10,000 concurrent callers on one key
 *   undici       undici requests on fresh connections: undici's connector
 *                vs nettrace's undiciConnector (bench/_undici.ts)
 *   undici-https the same over TLS
 *   tls          the runtime's TLS connect vs nettrace's TLS dial
 *                (bench/_tls.ts)
 *   hev3-hints   A/AAAA 2 s late, HTTPS record at once with address hints:
 *                native vs nettrace with `service: "https"` (bench/_hev3.ts)
 *   hev3-overhead  no HTTPS record (NODATA): nettrace's dial with
 *                `service: "https"` vs without (bench/_hev3.ts)
 *
 * Environment: NETTRACE_BENCH_QUICK=1 runs far fewer iterations (for
 * checking the driver), NETTRACE_NODE the Node that runs the listener.
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import process from "node:process";
import type { Resolver, Trace } from "../mod.ts";
import { promises as dns } from "node:dns";
import type { DnsZone } from "../tests/_dns_server.ts";
import {
  type Adapter,
  type Closable,
  collectGarbage,
  type ListenerProcess,
  loadAdapter,
  memory,
  nativeConnect,
  nativeConnectNoDelay,
  nativeConnectSetup,
  nativeLookupConnect,
  openTcpSockets,
  runtime,
  runtimeVersion,
  settleGarbage,
  startChild,
  startListener,
} from "./_native.ts";
import { answers, runRace, singleflightFanIn } from "./_workloads.ts";
import { type Measure, scenarioUndici } from "./_undici.ts";
import { scenarioTls } from "./_tls.ts";
import { scenarioAblate, scenarioCycle } from "./_cycle.ts";
import {
  type Hev3Measure,
  scenarioHev3Hints,
  scenarioHev3Overhead,
} from "./_hev3.ts";
import type { Row, ScenarioResult } from "./_results.ts";

const QUICK = process.env.NETTRACE_BENCH_QUICK === "1";

// ── results ──────────────────────────────────────────────────────────────

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
  return sorted[Math.max(0, i)]!;
}

function summarize(name: string, samples: number[]): Row {
  const sorted = samples.slice().sort((a, b) => a - b);
  return {
    name,
    median: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    samples: sorted.length,
  };
}

function withRatios(rows: Row[]): Row[] {
  const native = rows.find((r) => r.name === "native");
  if (native === undefined) return rows;
  for (const row of rows) row.ratio = row.median / native.median;
  return rows;
}

// ── measuring ────────────────────────────────────────────────────────────

interface Variant {
  name: string;
  run: () => Promise<Closable>;
}

/**
 * Runs every variant once per round, in an order rotated each round (so no
 * variant always follows the same one), and times each connect.
 */
async function interleaved(
  variants: Variant[],
  options: { warmup: number; rounds: number },
): Promise<Row[]> {
  const samples: number[][] = variants.map(() => []);
  const total = options.warmup + options.rounds;
  for (let round = 0; round < total; round++) {
    for (let k = 0; k < variants.length; k++) {
      const v = (round + k) % variants.length;
      const t0 = performance.now();
      const conn = await variants[v]!.run();
      const elapsed = performance.now() - t0;
      conn.close();
      if (round >= options.warmup) samples[v]!.push(elapsed);
    }
  }
  return withRatios(variants.map((v, i) => summarize(v.name, samples[i]!)));
}

/** Like {@linkcode interleaved}, for connects that may fail or hang. */
async function interleavedOutcomes(
  variants: Variant[],
  options: { rounds: number; timeout: number; pause?: number },
): Promise<Row[]> {
  const samples: number[][] = variants.map(() => []);
  const ok = variants.map(() => 0);
  const failed = variants.map(() => 0);
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const v = (round + k) % variants.length;
      const t0 = performance.now();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const attempt = variants[v]!.run();
      const outcome = await Promise.race([
        attempt.then((conn) => ({ conn }), (error: unknown) => ({ error })),
        new Promise<{ error: unknown }>((resolve) => {
          timer = setTimeout(
            () => resolve({ error: new Error("timed out") }),
            options.timeout,
          );
        }),
      ]);
      const elapsed = performance.now() - t0;
      clearTimeout(timer);
      if ("conn" in outcome) {
        outcome.conn.close();
        ok[v]!++;
      } else {
        failed[v]!++;
        // A connect that timed out here is closed if it lands later.
        attempt.then((conn) => conn.close(), () => {});
      }
      samples[v]!.push(elapsed);
      if (options.pause !== undefined) await sleep(options.pause);
    }
  }
  return withRatios(variants.map((v, i) => ({
    ...summarize(v.name, samples[i]!),
    succeeded: ok[i]!,
    failed: failed[i]!,
  })));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const n = (full: number, quick: number) => QUICK ? quick : full;

const noopTrace: Trace = {
  dnsStart() {},
  dnsDone() {},
  connectStart() {},
  connectDone() {},
};

const events: unknown[] = [];
const recordingTrace: Trace = {
  dnsStart: (info) => void events.push(info),
  dnsDone: (info) => void events.push(info),
  connectStart: (info) => void events.push(info),
  connectDone: (info) => void events.push(info),
};

// ── scenarios ────────────────────────────────────────────────────────────

interface Env {
  adapter: Adapter;
  listener: ListenerProcess;
}

async function scenarioA({ adapter, listener }: Env): Promise<ScenarioResult> {
  const port = listener.port;
  const literal = `127.0.0.1:${port}`;
  const rows = await interleaved([
    { name: "native", run: () => nativeConnect("127.0.0.1", port) },
    {
      name: "native + TCP_NODELAY",
      run: () => nativeConnectNoDelay("127.0.0.1", port),
    },
    {
      name: "native + TCP_NODELAY + localAddr",
      run: () => nativeConnectSetup("127.0.0.1", port),
    },
    { name: "nettrace", run: () => adapter.dial(literal) },
    {
      name: "nettrace, no-op trace",
      run: () => adapter.dial(literal, { trace: noopTrace }),
    },
    {
      name: "nettrace, recording trace",
      run: () => {
        events.length = 0;
        return adapter.dial(literal, { trace: recordingTrace });
      },
    },
  ], { warmup: n(1000, 50), rounds: n(6000, 200) });
  const plain = rows.find((r) => r.name === "nettrace")!;
  const noop = rows.find((r) => r.name === "nettrace, no-op trace")!;
  noop.extra = { "÷ no trace": noop.median / plain.median };
  const setup = rows.find((r) =>
    r.name === "native + TCP_NODELAY + localAddr"
  )!;
  const noDelay = rows.find((r) => r.name === "native + TCP_NODELAY")!;
  plain.extra = {
    "÷ native + TCP_NODELAY": plain.median / noDelay.median,
    "÷ native + TCP_NODELAY + localAddr": plain.median / setup.median,
  };
  return {
    id: "a",
    title: "IP literal on loopback (127.0.0.1)",
    method:
      "Sequential connect + close to a listener in another process; the variants interleaved, order rotated each round; only the connect is timed. `native + TCP_NODELAY` is the runtime's connect with TCP_NODELAY on (as Go does; Bun sets it on every socket itself, so there it is the native row again), which is what nettrace's Node adapter does at connect: it reads the local address when asked or as the socket closes. `native + TCP_NODELAY + localAddr` also reads the local address at connect, as the Bun adapter must (Bun forgets it after a reset) and Deno's TcpConn always does.",
    rows,
  };
}

async function scenarioByName(
  { adapter, listener }: Env,
  id: string,
  host: string,
  title: string,
  method: string,
  lookups = false,
): Promise<ScenarioResult> {
  const port = listener.port;
  const variants: Variant[] = [
    { name: "native", run: () => nativeConnect(host, port) },
    { name: "nettrace", run: () => adapter.dial(`${host}:${port}`) },
  ];
  if (lookups) {
    variants.push({
      // The adapters' default RFC 6724 source-address probe (a UDP socket
      // per address asked) answered "unknown" without a socket.
      name: "nettrace, no source probe",
      run: () =>
        adapter.dial(`${host}:${port}`, { sourceAddress: () => undefined }),
    });
    variants.push({
      name: "nettrace, one getaddrinfo for both families",
      run: () =>
        adapter.dial(`${host}:${port}`, { resolver: unspecResolver() }),
    });
    // What the lookups alone cost, no connect: one getaddrinfo for both
    // families (what the runtime's connect does) against one per family in
    // parallel (what nettrace's default resolver does, so that neither
    // family waits for the other: RFC 8305 §3).
    variants.push({
      name: "lookup only: getaddrinfo ×1",
      run: () => lookup(host, { all: true }).then(() => NOTHING),
    }, {
      name: "lookup only: getaddrinfo per family ×2",
      run: () =>
        Promise.all([
          lookup(host, { family: 6, all: true }),
          lookup(host, { family: 4, all: true }),
        ]).then(() => NOTHING),
    });
  }
  const rows = await interleaved(variants, {
    warmup: n(300, 20),
    rounds: n(3000, 100),
  });
  return { id, title, method, rows };
}

const NOTHING: Closable = { close() {} };

/**
 * A resolver that makes one getaddrinfo call (both families) per host and
 * hands each family its part — what a runtime's own connect does — to see
 * how much of scenario b is the second getaddrinfo of nettrace's default
 * resolver. (It gives up RFC 8305 §3's independent families: an A answer
 * waits for AAAA.)
 */
function unspecResolver(): Resolver {
  const pending = new Map<
    string,
    Promise<{ address: string; family: number }[]>
  >();
  return {
    lookup(host, family) {
      let all = pending.get(host);
      if (all === undefined) {
        all = lookup(host, { all: true });
        pending.set(host, all);
        const forget = () => pending.delete(host);
        all.then(forget, forget);
      }
      return all.then((list) =>
        list.flatMap((a) =>
          a.family === family ? [{ address: a.address, family }] : []
        )
      );
    },
  };
}
const lookup = dns.lookup;

/** The DNS fixture, in a Node process of its own (bench/_dns.ts). */
interface DnsChild {
  readonly nameServer: { address: string; port: number };
  /** How many queries it has received so far. */
  queries(): Promise<number>;
  close(): Promise<void>;
}

async function startDns(zone: DnsZone, port = 0): Promise<DnsChild> {
  const child = await startChild("_dns.ts", [JSON.stringify(zone), `${port}`]);
  return {
    nameServer: { address: "127.0.0.1", port: child.port },
    queries: async () => (await child.ask("queries?")).queries!,
    close: () => child.close(),
  };
}

const C_NAME = "c.bench.test";
const C_DIALS = 1000;

async function scenarioC({ adapter, listener }: Env): Promise<ScenarioResult> {
  const port = listener.port;
  // TTL 0: nothing may cache the answer between rounds.
  const server = await startDns({
    [C_NAME]: { A: ["127.0.0.1"], AAAA: ["::1"], ttl: 0 },
  });
  try {
    const resolver = adapter.createResolver({
      nameServer: server.nameServer,
    });
    const nativeDial = async (): Promise<Closable> => {
      // What a getaddrinfo-based connect does, per dial: its own lookup of
      // both families, waiting for both answers, then the first address.
      return await nativeLookupConnect(C_NAME, server.nameServer, port);
    };
    const rounds = {
      native: () => nativeDial(),
      nettrace: () => adapter.dial(`${C_NAME}:${port}`, { resolver }),
    };
    const times: Record<string, number[]> = { native: [], nettrace: [] };
    const queries: Record<string, number[]> = { native: [], nettrace: [] };
    const total = n(7, 2);
    for (let round = 0; round < total; round++) {
      const order = round % 2 === 0
        ? ["native", "nettrace"] as const
        : ["nettrace", "native"] as const;
      for (const name of order) {
        const before = await server.queries();
        const t0 = performance.now();
        const conns = await Promise.all(
          Array.from({ length: C_DIALS }, () => rounds[name]()),
        );
        const elapsed = performance.now() - t0;
        for (const conn of conns) conn.close();
        await sleep(50);
        if (round === 0) continue; // warm-up
        times[name]!.push(elapsed);
        queries[name]!.push(await server.queries() - before);
      }
    }
    const rows = withRatios(["native", "nettrace"].map((name) => {
      const q = queries[name]!;
      return {
        ...summarize(name, times[name]!),
        extra: {
          "DNS queries per 1,000 dials": Math.min(...q) === Math.max(...q)
            ? q[0]!
            : `${Math.min(...q)}–${Math.max(...q)}`,
        },
      };
    }));
    return {
      id: "c",
      title: "1,000 concurrent dials of one name through a DNS fixture",
      method:
        "Time until all 1,000 are connected (per round; median of the rounds), DNS queries the fixture received per round. nettrace: its name-server resolver pointed at the fixture (lookups coalesced). native: the runtime's connect cannot be pointed at another name server, so each dial makes its own lookup of A and AAAA at the fixture (Deno.resolveDns on Deno; a fresh node:dns Resolver with setServers on Bun and Node, as a shared one overflows its socket's buffer on Node and coalesces on Bun), waits for both answers as getaddrinfo does, then calls the runtime's own connect on the first address.",
      rows,
    };
  } finally {
    await server.close();
  }
}

const E_DELAY = 2000;
const E_NAMES = 10;

/**
 * The zone of scenario e: names `n0.e.bench.test`… for the native side and
 * `t0.e.bench.test`… for nettrace, one per round, so that no cache (Bun's
 * DNS cache, a resolver's) answers a round from the one before.
 */
function eZone(a: string, aaaa: string): DnsZone {
  const zone: DnsZone = {};
  for (let i = 0; i < E_NAMES; i++) {
    for (const side of ["n", "t"]) {
      zone[`${side}${i}.e.bench.test`] = {
        A: [a],
        AAAA: [aaaa],
        delay: { AAAA: E_DELAY },
        ttl: 0,
      };
    }
  }
  return zone;
}

/** A fresh name of {@linkcode eZone} per call, for one side. */
function eNames(side: "n" | "t"): () => string {
  let i = 0;
  return () => `${side}${i++ % E_NAMES}.e.bench.test`;
}

async function scenarioEFixture(
  { adapter, listener }: Env,
): Promise<ScenarioResult> {
  const port = listener.port;
  const server = await startDns(eZone("127.0.0.1", "::1"));
  try {
    const resolver = adapter.createResolver({
      nameServer: server.nameServer,
    });
    const nativeName = eNames("n");
    const nettraceName = eNames("t");
    const rows = await interleavedOutcomes([
      {
        name: "native",
        run: () => nativeLookupConnect(nativeName(), server.nameServer, port),
      },
      {
        name: "nettrace",
        run: () => adapter.dial(`${nettraceName()}:${port}`, { resolver }),
      },
    ], { rounds: n(3, 1), timeout: 10_000 });
    return {
      id: "e-fixture",
      title: "AAAA answer 2 s late, A at once (DNS fixture)",
      method:
        "Through the loopback DNS fixture, a fresh name each round (no cache answers from the round before). native: A and AAAA asked at once (Deno.resolveDns on Deno, node:dns Resolver#setServers on Bun and Node), waiting for both answers as getaddrinfo does, then the runtime's connect. nettrace: its name-server resolver; the A answer waits the Resolution Delay (50 ms) for AAAA, then IPv4 is dialled.",
      rows,
    };
  } finally {
    await server.close();
  }
}

/** Scenario e through getaddrinfo: run inside the bench namespace only. */
async function scenarioEGetaddrinfo(
  { adapter, listener }: Env,
): Promise<ScenarioResult> {
  const port = listener.port;
  // resolv.conf in the namespace points at 127.0.0.1:53: this fixture.
  const server = await startDns(eZone("198.18.0.1", "2001:db8:1::1"), 53);
  try {
    const nativeName = eNames("n");
    const nettraceName = eNames("t");
    const rows = await interleavedOutcomes([
      { name: "native", run: () => nativeConnect(nativeName(), port) },
      {
        name: "nettrace",
        run: () => adapter.dial(`${nettraceName()}:${port}`),
      },
    ], {
      rounds: n(3, 1),
      timeout: 10_000,
      // Let the late AAAA lookup of the round before finish (getaddrinfo
      // cannot be cancelled), so rounds do not overlap.
      pause: E_DELAY + 200,
    });
    return {
      id: "e-getaddrinfo",
      title: "AAAA answer 2 s late, A at once (getaddrinfo, namespace)",
      method:
        "Inside a network namespace whose resolv.conf points at the DNS fixture (127.0.0.1:53); a fresh name each round, as Bun caches lookups. native: the runtime's connect by name (getaddrinfo asks A and AAAA and waits for both). nettrace: its default resolver (getaddrinfo once per family).",
      rows,
    };
  } finally {
    await server.close();
  }
}

async function scenarioNamespaceName(
  { adapter, listener }: Env,
  id: string,
  host: string,
  title: string,
  method: string,
  rounds: number,
): Promise<ScenarioResult> {
  const port = listener.port;
  const rows = await interleavedOutcomes([
    { name: "native", run: () => nativeConnect(host, port) },
    { name: "nettrace", run: () => adapter.dial(`${host}:${port}`) },
    {
      // Every round as the first: RFC 8305 §4 history (on by default)
      // otherwise lets later rounds go straight to what worked.
      name: "nettrace, no history",
      run: () => adapter.dial(`${host}:${port}`, { history: false }),
    },
  ], { rounds: n(rounds, 1), timeout: 15_000, pause: 100 });
  return { id, title, method, rows };
}

function scenarioScheduler(): ScenarioResult {
  const rows: Row[] = [];
  for (const endpoints of [2, 8, 64]) {
    const addrs = answers(endpoints);
    const perRace = runRace(addrs);
    // Warm up, then time batches of ~100 ms and keep the median rate.
    const rates: number[] = [];
    let batch = 1;
    for (let i = 0; i < 2000; i++) runRace(addrs);
    for (let r = 0; r < n(15, 3); r++) {
      let steps = 0;
      const t0 = performance.now();
      let elapsed = 0;
      do {
        for (let i = 0; i < batch; i++) steps += runRace(addrs);
        elapsed = performance.now() - t0;
        if (elapsed < 10) batch *= 2;
      } while (elapsed < 100);
      rates.push(steps / elapsed * 1000);
    }
    const row = summarize(`${endpoints} endpoints`, rates.map((r) => 1 / r));
    rows.push({
      ...row,
      extra: {
        "steps per race": perRace,
        "steps/s": Math.round(1 / row.median),
      },
    });
  }
  return {
    id: "scheduler",
    title: "HappyEyeballs scheduler: steps per second",
    method:
      "One whole race driven through step(): both answers, every attempt but the last refused 1 ms after it starts, the next started by the scheduler's wake-up, the last one connects. Median of 15 batches of ~100 ms.",
    rows,
  };
}

async function scenarioSingleflight(): Promise<ScenarioResult> {
  const samples: number[] = [];
  for (let i = 0; i < n(30, 3) + 5; i++) {
    const t0 = performance.now();
    const shared = await singleflightFanIn(10_000);
    const elapsed = performance.now() - t0;
    if (shared !== 10_000) throw new Error(`${shared} of 10,000 shared`);
    if (i >= 5) samples.push(elapsed);
  }
  return {
    id: "singleflight",
    title: "Singleflight: 10,000 concurrent callers on one key",
    method:
      "10,000 do() calls join one pending flight; the work resolves; time until every caller has its result.",
    rows: [summarize("nettrace", samples)],
  };
}

/** The timing loop, lent to the scenarios in other files. */
const measure: Measure = { interleaved, n };

/** The same, with the fixture, for bench/_hev3.ts. */
const hev3Measure: Hev3Measure = {
  interleavedOutcomes,
  n,
  startDns,
};

const NAMESPACE_NOTE =
  "Inside a network namespace the run creates (scripts/bench_netns.sh): lo only, 2001:db8::/32 and 198.18.0.0/15 addresses, faults by nftables, names from the namespace's own hosts file.";

const SCENARIOS: Record<string, (env: Env) => Promise<ScenarioResult>> = {
  a: scenarioA,
  cycle: ({ adapter }) => scenarioCycle(adapter),
  ablate: ({ adapter }) => scenarioAblate(adapter),
  "b-localhost": (env) =>
    scenarioByName(
      env,
      "b-localhost",
      "localhost",
      "`localhost` by name",
      "nettrace answers `localhost` itself (127.0.0.1 and ::1, RFC 6761) without getaddrinfo; the native connect calls getaddrinfo. Sequential, interleaved, connect timed.",
    ),
  "b-hosts": (env) =>
    scenarioByName(
      env,
      "b-hosts",
      "hosts.bench.test",
      "a name from /etc/hosts (::1 and 127.0.0.1)",
      `${NAMESPACE_NOTE} Both resolve through getaddrinfo (nettrace once per family). Sequential, interleaved, connect timed. The lookup-only rows time node:dns lookup (getaddrinfo in a thread pool, as nettrace's resolver calls it) without a connect.`,
      true,
    ),
  c: scenarioC,
  d: (env) =>
    scenarioNamespaceName(
      env,
      "d",
      "v6drop.bench.test",
      "IPv6 dropped, IPv4 fine",
      `${NAMESPACE_NOTE} The name has 2001:db8:1::2 (every SYN dropped) and 198.18.0.1; tcp_syn_retries=1, so a connect that only tries IPv6 fails after ~3 s.`,
      5,
    ),
  "e-fixture": scenarioEFixture,
  "e-getaddrinfo": scenarioEGetaddrinfo,
  f: (env) =>
    scenarioNamespaceName(
      env,
      "f",
      "slow.bench.test",
      "first SYN of every connection dropped, 4 addresses, both families",
      `${NAMESPACE_NOTE} The name has 2001:db8:1::3, 2001:db8:1::4, 198.18.0.3 and 198.18.0.4; the first SYN of each (address, source port) is dropped, the retransmission ~1 s later passes.`,
      5,
    ),
  scheduler: () => Promise.resolve(scenarioScheduler()),
  singleflight: () => scenarioSingleflight(),
  undici: () => scenarioUndici("http", measure),
  "undici-https": () => scenarioUndici("https", measure),
  tls: ({ adapter }) => scenarioTls(adapter, measure),
  "hev3-hints": (env) => scenarioHev3Hints(env, hev3Measure),
  "hev3-overhead": (env) => scenarioHev3Overhead(env, hev3Measure),
};

// ── memory ───────────────────────────────────────────────────────────────

const MEM_DIALS = 10_000;
const MEM_HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"];

async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  ms: number,
): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await predicate()) return true;
    await sleep(20);
  }
  return await predicate();
}

function connector(
  adapter: Adapter,
  which: string,
  port: number,
): (host: string) => Promise<Closable> {
  if (which === "native") return (host) => nativeConnect(host, port);
  if (which === "nettrace") return (host) => adapter.dial(`${host}:${port}`);
  throw new Error(`unknown variant ${which}: native or nettrace`);
}

/** 10,000 dials in flight at once: memory per dial, all connect, none left. */
async function memoryRun(adapter: Adapter, which: string) {
  const listener = await startListener(MEM_HOSTS);
  try {
    const connect = connector(adapter, which, listener.port);
    for (let i = 0; i < 500; i++) (await connect(MEM_HOSTS[i % 4]!)).close();
    await waitFor(async () => await listener.open() === 0, 10_000);
    const fds0 = openTcpSockets();
    await settleGarbage();
    const base = memory();
    const pending: Promise<Closable>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < MEM_DIALS; i++) {
      pending.push(connect(MEM_HOSTS[i % MEM_HOSTS.length]!));
    }
    // Everything is in flight now; nothing has connected yet (no I/O ran).
    collectGarbage();
    const inFlight = memory();
    const settled = await Promise.allSettled(pending);
    const elapsed = performance.now() - t0;
    const conns = settled.flatMap((s) =>
      s.status === "fulfilled" ? [s.value] : []
    );
    const errors = settled.flatMap((s) =>
      s.status === "rejected" ? [String(s.reason)] : []
    );
    const connected = conns.length;
    const fdsHeld = openTcpSockets() - fds0;
    collectGarbage();
    const held = memory();
    for (const conn of conns) conn.close();
    // Drop every reference, so the heap after GC shows what is left behind.
    pending.length = 0;
    settled.length = 0;
    conns.length = 0;
    const serverDrained = await waitFor(
      async () => await listener.open() === 0,
      30_000,
    );
    await waitFor(() => openTcpSockets() <= fds0, 10_000);
    const left = openTcpSockets() - fds0;
    await settleGarbage();
    const after = memory();
    return {
      variant: which,
      dials: MEM_DIALS,
      connected,
      failed: errors.length,
      firstError: errors[0],
      ms: elapsed,
      heapPerDialInFlight: (inFlight.heap - base.heap) / MEM_DIALS,
      rssPerDialInFlight: (inFlight.rss - base.rss) / MEM_DIALS,
      heapPerConnHeld: (held.heap - base.heap) / MEM_DIALS,
      rssPerConnHeld: (held.rss - base.rss) / MEM_DIALS,
      tcpSocketsWhileHeld: fdsHeld,
      tcpSocketsLeftOpen: left,
      listenerLeftOpen: serverDrained ? 0 : await listener.open(),
      heapAfterMinusBase: after.heap - base.heap,
    };
  } finally {
    await listener.close();
  }
}

const LEAK_DIALS = 100_000;

/** 100,000 sequential dials, then GC: where the heap ends up. */
async function leakRun(adapter: Adapter, which: string) {
  const listener = await startListener(MEM_HOSTS);
  try {
    const connect = connector(adapter, which, listener.port);
    const dials = n(LEAK_DIALS, 5_000);
    for (let i = 0; i < 2000; i++) (await connect(MEM_HOSTS[i % 4]!)).close();
    await waitFor(async () => await listener.open() === 0, 10_000);
    await sleep(100);
    const fds0 = openTcpSockets();
    await settleGarbage();
    const start = memory();
    const t0 = performance.now();
    for (let i = 0; i < dials; i++) {
      (await connect(MEM_HOSTS[i % MEM_HOSTS.length]!)).close();
    }
    const elapsed = performance.now() - t0;
    await waitFor(async () => await listener.open() === 0, 30_000);
    await waitFor(() => openTcpSockets() <= fds0, 10_000);
    const left = openTcpSockets() - fds0;
    await settleGarbage();
    const end = memory();
    return {
      variant: which,
      dials,
      ms: elapsed,
      heapStart: start.heap,
      heapEnd: end.heap,
      heapRatio: end.heap / start.heap,
      rssStart: start.rss,
      rssEnd: end.rss,
      tcpSocketsLeftOpen: left,
    };
  } finally {
    await listener.close();
  }
}

// ── main ─────────────────────────────────────────────────────────────────

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const out = argument("--out");
  const adapter = await loadAdapter();
  const header = { runtime, version: runtimeVersion() };
  let result: unknown;
  const mem = argument("--mem");
  const leak = argument("--leak");
  if (mem !== undefined) {
    result = { ...header, memory: await memoryRun(adapter, mem) };
  } else if (leak !== undefined) {
    result = { ...header, leak: await leakRun(adapter, leak) };
  } else {
    const ids = (argument("--scenarios") ?? "a,b-localhost,c,e-fixture")
      .split(",").filter((s) => s !== "");
    const hosts = (process.env.NETTRACE_BENCH_HOSTS ?? "127.0.0.1,::1")
      .split(",");
    const listener = await startListener(hosts);
    const scenarios: ScenarioResult[] = [];
    try {
      for (const id of ids) {
        const run = SCENARIOS[id];
        if (run === undefined) throw new Error(`unknown scenario ${id}`);
        const t0 = performance.now();
        console.error(`${runtime}: scenario ${id} …`);
        const scenario = await run({ adapter, listener });
        console.error(
          `${runtime}: scenario ${id} done in ${
            ((performance.now() - t0) / 1000).toFixed(1)
          } s`,
        );
        for (const row of scenario.rows) {
          console.error(
            `  ${row.name.padEnd(28)} median ${row.median.toFixed(4)} ms  p95 ${
              row.p95.toFixed(4)
            } ms${row.ratio === undefined ? "" : `  ×${row.ratio.toFixed(3)}`}${
              row.failed ? `  failed ${row.failed}` : ""
            }${row.extra ? `  ${JSON.stringify(row.extra)}` : ""}`,
          );
        }
        scenarios.push(scenario);
      }
    } finally {
      await listener.close();
    }
    result = { ...header, scenarios };
  }
  const text = JSON.stringify(result, null, 2);
  if (out !== undefined) writeFileSync(out, text + "\n");
  else console.log(text);
}

await main();
// Bun and Deno keep running while a closed socket's handle lingers; the
// work is done.
process.exit(0);
