/**
 * The connect + close cycle method (scenario `cycle`) and its ablation
 * ladder (scenario `ablate`), beside scenario a's connect-time method:
 * 200 warm-up pairs, then interleaved rounds of 100 sequential connect +
 * close cycles to a loopback listener on 127.0.0.1, each round on the next
 * of the listener's ports (every cycle leaves a TIME_WAIT socket, and past
 * ~14k of them on one port `connect()` slows for everyone), the variants'
 * order rotated each round; a sample is one round's µs per cycle, and
 * ratios are of medians.
 * Each round's process CPU time (user + system, `process.cpuUsage()`) is
 * kept beside its wall time: on a loaded machine the wall time of a
 * loopback cycle is mostly waiting for a core, while the CPU time is what
 * the variant itself spent.
 *
 * Native is the runtime's connect and close at their plainest:
 * `Deno.connect` + `close()`, `Bun.connect({ socket: { data() {} } })` +
 * `end()`, `net.connect(options, cb)` + `destroy()`.
 *
 * Run one scenario on one runtime alone, e.g.
 *
 *   node --expose-gc bench/compare.ts --scenarios cycle
 *   NETTRACE_BENCH_ROUNDS=40 bun bench/compare.ts --scenarios ablate
 *
 * @module
 */

import { connect as netConnect, type Socket } from "node:net";
import process from "node:process";
import { dial as coreDial, type Trace } from "../mod.ts";
import type { Dialer, Endpoint, Resolver } from "../src/types.ts";
import { NEVER_ABORTED } from "../src/_shared_signal.ts";
import { type Adapter, runtime, startListener } from "./_native.ts";
import type { Row, ScenarioResult } from "./_results.ts";

const QUICK = process.env.NETTRACE_BENCH_QUICK === "1";
const CYCLES = 100;
const WARMUP_PAIRS = QUICK ? 20 : 200;
const PORTS = 16;

function rounds(full: number): number {
  const asked = Number(process.env.NETTRACE_BENCH_ROUNDS);
  return Number.isInteger(asked) && asked > 0 ? asked : QUICK ? 3 : full;
}

/** One way to connect and close, timed as a whole. */
interface CycleVariant<T = unknown> {
  name: string;
  connect(port: number): Promise<T>;
  close(conn: T): void;
}

export function variant<T>(
  name: string,
  connect: (port: number) => Promise<T>,
  close: (conn: T) => void,
): CycleVariant {
  return { name, connect, close } as CycleVariant;
}

function median(sorted: number[]): number {
  return sorted[Math.ceil(sorted.length / 2) - 1]!;
}

function row(name: string, samples: number[], cpu: number[]): Row {
  const sorted = samples.slice().sort((a, b) => a - b);
  const cpuSorted = cpu.slice().sort((a, b) => a - b);
  const quartiles = (s: number[]) =>
    `${s[Math.floor(s.length / 4)]!.toFixed(1)}–${
      s[Math.ceil((3 * s.length) / 4) - 1]!.toFixed(1)
    }`;
  return {
    name,
    median: median(sorted),
    p95:
      sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!,
    samples: sorted.length,
    extra: {
      "µs per cycle": Number((median(sorted) * 1000).toFixed(2)),
      "wall IQR µs": quartiles(sorted.map((x) => x * 1000)),
      "CPU µs per cycle": Number(median(cpuSorted).toFixed(2)),
      "CPU IQR µs": quartiles(cpuSorted),
    },
  };
}

/** The process's CPU time (user + system, all threads), in µs. */
function cpuTime(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/**
 * Runs the variants in interleaved rounds of {@linkcode CYCLES} cycles;
 * rows carry ms per cycle (median of the rounds) and the ratio to the first.
 */
export async function cycles(
  variants: CycleVariant[],
  totalRounds: number,
): Promise<Row[]> {
  const listener = await startListener(["127.0.0.1"], PORTS);
  try {
    const ports = listener.ports;
    for (let i = 0; i < WARMUP_PAIRS; i++) {
      for (const v of variants) v.close(await v.connect(ports[i % PORTS]!));
    }
    const samples: number[][] = variants.map(() => []);
    const cpu: number[][] = variants.map(() => []);
    for (let round = 0; round < totalRounds; round++) {
      const port = ports[round % PORTS]!;
      for (let k = 0; k < variants.length; k++) {
        const i = (round + k) % variants.length;
        const v = variants[i]!;
        const c0 = cpuTime();
        const t0 = performance.now();
        for (let c = 0; c < CYCLES; c++) v.close(await v.connect(port));
        samples[i]!.push((performance.now() - t0) / CYCLES);
        cpu[i]!.push((cpuTime() - c0) / CYCLES);
      }
    }
    const rows = variants.map((v, i) => row(v.name, samples[i]!, cpu[i]!));
    const base = rows[0]!.median;
    const cpuBase = rows[0]!.extra!["CPU µs per cycle"] as number;
    for (const r of rows) {
      r.ratio = r.median / base;
      const c = r.extra!["CPU µs per cycle"] as number;
      r.extra!["CPU ratio"] = Number((c / cpuBase).toFixed(3));
      r.extra!["CPU µs over native"] = Number((c - cpuBase).toFixed(2));
    }
    return rows;
  } finally {
    await listener.close();
  }
}

// ── the runtimes' own connect + close ────────────────────────────────────

interface BunSocket {
  end(): void;
  setNoDelay(on: boolean): boolean;
  localAddress: string;
  localPort: number;
}
interface BunGlobal {
  connect(options: Record<string, unknown>): Promise<BunSocket>;
}
interface DenoConn {
  close(): void;
  setNoDelay(on: boolean): void;
}
interface DenoGlobal {
  connect(options: { hostname: string; port: number }): Promise<DenoConn>;
}

const HOST = "127.0.0.1";
const BUN_DATA_ONLY = { data() {} };

export function nativeVariant(): CycleVariant {
  if (runtime === "deno") {
    const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
    return variant(
      "native",
      (port) => deno.connect({ hostname: HOST, port }),
      (c) => c.close(),
    );
  }
  if (runtime === "bun") {
    const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
    return variant(
      "native",
      (port) => bun.connect({ hostname: HOST, port, socket: BUN_DATA_ONLY }),
      (s) => s.end(),
    );
  }
  return variant("native", nodeConnect({}), (s) => s.destroy());
}

function nodeConnect(
  extra: Record<string, unknown>,
  after?: (socket: Socket) => void,
): (port: number) => Promise<Socket> {
  return (port) =>
    new Promise<Socket>((resolve) => {
      const socket = netConnect({ host: HOST, port, ...extra }, () => {
        after?.(socket);
        resolve(socket);
      });
    });
}

// ── scenarios ────────────────────────────────────────────────────────────

const noopTrace: Trace = {
  dnsStart() {},
  dnsDone() {},
  connectStart() {},
  connectDone() {},
};

/** Scenario `cycle`: native, nettrace, nettrace with a no-op trace. */
export async function scenarioCycle(adapter: Adapter): Promise<ScenarioResult> {
  const close = (c: { close(): void }) => c.close();
  const rows = await cycles([
    nativeVariant(),
    variant("nettrace", (port) => adapter.dial(`${HOST}:${port}`), close),
    variant(
      "nettrace, no-op trace",
      (port) => adapter.dial(`${HOST}:${port}`, { trace: noopTrace }),
      close,
    ),
  ], rounds(40));
  const plain = rows[1]!;
  const noop = rows[2]!;
  noop.extra!["÷ no trace"] = Number((noop.median / plain.median).toFixed(3));
  return {
    id: "cycle",
    title: "IP literal on loopback: connect + close cycles",
    method:
      `${WARMUP_PAIRS} warm-up pairs, then interleaved rounds (order rotated) of ${CYCLES} sequential connect + close cycles to a listener on 127.0.0.1 in another process, each round on the next of ${PORTS} listener ports (TIME_WAIT); a sample is one round's time per cycle, the ratio is of medians. native: Deno.connect + close(), Bun.connect({ socket: { data() {} } }) + end(), net.connect(options, cb) + destroy().`,
    rows,
  };
}

let measuredDial = 0;
const seen: unknown[] = [];

/** Reads the addresses as a caller of `localAddr` would. */
function touch(value: unknown): void {
  measuredDial++;
  if ((measuredDial & 1023) === 0) seen.length = 0;
  seen.push(value);
}

interface RuntimeModule {
  dialer: Dialer<{ close(): void }>;
  resolver: Resolver;
}

/**
 * Scenario `ablate`: a ladder from the runtime's own connect + close up to
 * the adapter's `dial()`, one layer added per rung, so each rung's µs over
 * the one below is what that layer costs per dial.
 */
export async function scenarioAblate(
  adapter: Adapter,
): Promise<ScenarioResult> {
  const mod = await import(`../runtimes/${runtime}.ts`) as RuntimeModule;
  const { dialer, resolver } = mod;
  const close = (c: { close(): void }) => c.close();
  const endpoint = (port: number): Endpoint => ({
    address: HOST,
    family: 4,
    port,
  });
  const defaults = { resolver, dialer, sourceAddress: () => undefined };
  const ladder: CycleVariant[] = [nativeVariant(), ...runtimeRungs()];
  ladder.push(
    variant(
      "dialer.connect() + conn.close()",
      (port) => dialer.connect(endpoint(port), { signal: NEVER_ABORTED }),
      close,
    ),
    variant(
      "core dial() (shared options)",
      (port) => coreDial(`${HOST}:${port}`, defaults),
      close,
    ),
    variant(
      "adapter dial()",
      (port) => adapter.dial(`${HOST}:${port}`),
      close,
    ),
    variant(
      "adapter dial(), no-op trace",
      (port) => adapter.dial(`${HOST}:${port}`, { trace: noopTrace }),
      close,
    ),
  );
  const rows = await cycles(ladder, rounds(40));
  for (let i = 1; i < rows.length; i++) {
    const cpu = (r: Row) => r.extra!["CPU µs per cycle"] as number;
    rows[i]!.extra!["CPU µs over rung above"] = Number(
      (cpu(rows[i]!) - cpu(rows[i - 1]!)).toFixed(2),
    );
  }
  return {
    id: "ablate",
    title: "IP literal connect + close: the cost of each layer",
    method:
      "The cycle method (see cycle), one layer added per rung, all rungs interleaved in one process: the runtime's connect with nettrace's socket settings, the address reads, the adapter's dialer (its Conn), the core's dial() with one shared options object, the adapter's dial(), a no-op trace.",
    rows,
  };
}

/** The rungs between native and the adapter's dialer, per runtime. */
function runtimeRungs(): CycleVariant[] {
  if (runtime === "deno") {
    const deno = (globalThis as unknown as { Deno: DenoGlobal }).Deno;
    return [variant("+ setNoDelay", async (port) => {
      const c = await deno.connect({ hostname: HOST, port });
      c.setNoDelay(true);
      return c;
    }, (c) => c.close())];
  }
  if (runtime === "bun") {
    const bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
    const open = (extra: Record<string, unknown>) => (port: number) =>
      bun.connect({ hostname: HOST, port, socket: BUN_DATA_ONLY, ...extra });
    const end = (s: BunSocket) => s.end();
    const halfOpen = open({ allowHalfOpen: true });
    return [
      variant("+ allowHalfOpen: true", halfOpen, end),
      variant("+ setNoDelay", async (port) => {
        const s = await halfOpen(port);
        s.setNoDelay(true);
        return s;
      }, end),
      variant("+ localAddr read", async (port) => {
        const s = await halfOpen(port);
        s.setNoDelay(true);
        touch({ hostname: s.localAddress, port: s.localPort });
        return s;
      }, end),
    ];
  }
  const destroy = (s: Socket) => s.destroy();
  const opts = { family: 4, autoSelectFamily: false, noDelay: true };
  return [
    variant("+ noDelay, family, no autoSelect", nodeConnect(opts), destroy),
    variant(
      "+ localAddr read",
      nodeConnect(
        opts,
        (s) => touch({ hostname: s.localAddress, port: s.localPort }),
      ),
      destroy,
    ),
    variant(
      "+ an 'error' listener closure",
      nodeConnect(opts, (s) => {
        touch({ hostname: s.localAddress, port: s.localPort });
        s.on("error", (err) => touch(err));
      }),
      destroy,
    ),
  ];
}
