/**
 * Turns the per-runtime JSON files of a `bench:compare` run into
 * `results.json` and `results.md`, checks the targets of issue 5, and puts
 * the tables (all but the targets) into docs/benchmarks.md between the
 * `bench:results` markers (only when writing into bench/).
 *
 *   node bench/_report.ts RUN_DIR DEST_DIR
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import process from "node:process";
import type { Row, ScenarioResult } from "./_results.ts";

/** The title of the targets table (the issues' speed and memory targets). */
const TARGETS_TITLE = "Targets (from the issues that set them):";

const [runDir, dest] = process.argv.slice(2) as [string, string];
const RUNTIMES = ["deno", "bun", "node"] as const;
type Rt = typeof RUNTIMES[number];
const LABEL: Record<Rt, string> = { deno: "Deno", bun: "Bun", node: "Node" };

interface MemoryResult {
  variant: string;
  /** How many runs the medians are of. */
  runs?: number;
  dials: number;
  connected: number;
  failed: number;
  firstError?: string;
  ms: number;
  heapPerDialInFlight: number;
  rssPerDialInFlight: number;
  heapPerConnHeld: number;
  rssPerConnHeld: number;
  tcpSocketsWhileHeld: number;
  tcpSocketsLeftOpen: number;
  listenerLeftOpen: number;
}

interface LeakResult {
  variant: string;
  dials: number;
  ms: number;
  heapStart: number;
  heapEnd: number;
  heapRatio: number;
  rssStart: number;
  rssEnd: number;
  tcpSocketsLeftOpen: number;
}

interface RuntimeResults {
  version?: string;
  scenarios: ScenarioResult[];
  memory: Record<string, MemoryResult>;
  leak: Record<string, LeakResult>;
}

/**
 * The median of several memory runs, field by field (the counts — connected,
 * sockets left open — are the worst run's, so nothing is hidden).
 */
function medianRun(runs: MemoryResult[]): MemoryResult {
  const median = (values: number[]) => {
    const sorted = values.slice().sort((a, b) => a - b);
    return sorted[Math.floor((sorted.length - 1) / 2)]!;
  };
  const pick = (key: keyof MemoryResult) =>
    median(runs.map((r) => r[key] as number));
  return {
    ...runs[0]!,
    ms: pick("ms"),
    heapPerDialInFlight: pick("heapPerDialInFlight"),
    rssPerDialInFlight: pick("rssPerDialInFlight"),
    heapPerConnHeld: pick("heapPerConnHeld"),
    rssPerConnHeld: pick("rssPerConnHeld"),
    connected: Math.min(...runs.map((r) => r.connected)),
    failed: Math.max(...runs.map((r) => r.failed)),
    tcpSocketsLeftOpen: Math.max(...runs.map((r) => r.tcpSocketsLeftOpen)),
    listenerLeftOpen: Math.max(...runs.map((r) => r.listenerLeftOpen)),
    runs: runs.length,
  };
}

function read(file: string): Record<string, unknown> | undefined {
  const path = `${runDir}/${file}`;
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, "utf8"));
}

const results: Partial<Record<Rt, RuntimeResults>> = {};
for (const rt of RUNTIMES) {
  if (!readdirSync(runDir).some((f) => f.startsWith(`${rt}-`))) continue;
  const r: RuntimeResults = { scenarios: [], memory: {}, leak: {} };
  for (const file of [`${rt}-scenarios.json`, `${rt}-netns.json`]) {
    const data = read(file);
    if (data === undefined) continue;
    r.version = data.version as string;
    r.scenarios.push(...data.scenarios as ScenarioResult[]);
  }
  for (const variant of ["native", "nettrace"]) {
    const runs: MemoryResult[] = [];
    for (const file of readdirSync(runDir).sort()) {
      if (!file.startsWith(`${rt}-mem-${variant}`)) continue;
      const mem = read(file)!;
      r.version ??= mem.version as string;
      runs.push(mem.memory as MemoryResult);
    }
    if (runs.length > 0) r.memory[variant] = medianRun(runs);
    const leak = read(`${rt}-leak-${variant}.json`);
    if (leak !== undefined) r.leak[variant] = leak.leak as LeakResult;
  }
  results[rt] = r;
}
const present = RUNTIMES.filter((rt) => results[rt] !== undefined);
const netnsSkipped = existsSync(`${runDir}/netns-skipped.txt`)
  ? readFileSync(`${runDir}/netns-skipped.txt`, "utf8").trim()
  : undefined;

// ── machine ──────────────────────────────────────────────────────────────

const cpuinfo = existsSync("/proc/cpuinfo")
  ? readFileSync("/proc/cpuinfo", "utf8")
  : "";
const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ??
  os.cpus()[0]?.model ?? "unknown CPU";
const machine = {
  cpu: model,
  cores: os.cpus().length,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  kernel: `${os.type()} ${os.release()}`,
  date: new Date().toISOString().slice(0, 10),
};

// ── formatting ───────────────────────────────────────────────────────────

function time(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  if (ms < 1) return `${(ms * 1000).toFixed(1)} µs`;
  if (ms < 100) return `${ms.toFixed(2)} ms`;
  return `${ms.toFixed(0)} ms`;
}

function bytes(n: number): string {
  if (Math.abs(n) >= 1024 * 1024) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (Math.abs(n) >= 1024) return `${(n / 1024).toFixed(2)} KiB`;
  return `${n.toFixed(0)} B`;
}

function ratio(r: number | undefined): string {
  return r === undefined ? "" : `×${r.toFixed(2)}`;
}

function scenario(rt: Rt, id: string): ScenarioResult | undefined {
  return results[rt]?.scenarios.find((s) => s.id === id);
}

function row(rt: Rt, id: string, name: string): Row | undefined {
  return scenario(rt, id)?.rows.find((r) => r.name === name);
}

function cell(r: Row | undefined): string {
  if (r === undefined) return "—";
  const parts = [`${time(r.median)} / ${time(r.p95)}`];
  if (r.ratio !== undefined && r.name !== "native") {
    parts.push(`**${ratio(r.ratio)}**`);
  }
  if (r.succeeded !== undefined) {
    parts.push(`${r.succeeded}/${r.succeeded + (r.failed ?? 0)} ok`);
  }
  const queries = r.extra?.["DNS queries per 1,000 dials"];
  if (queries !== undefined) parts.push(`${queries} queries`);
  return parts.join(", ");
}

// ── the latency table ────────────────────────────────────────────────────

const ORDER = [
  "a",
  "cycle",
  "b-localhost",
  "b-hosts",
  "c",
  "d",
  "e-fixture",
  "e-getaddrinfo",
  "f",
  "tls",
  "undici",
  "undici-https",
  "hev3-hints",
  "hev3-overhead",
];
const head = `| scenario | variant | ${
  present.map((rt) => `${LABEL[rt]} ${results[rt]!.version?.split(" ")[0]}`)
    .join(" | ")
} |`;
const rule = `|${" --- |".repeat(2 + present.length)}`;
const latency: string[] = [head, rule];
const methods: string[] = [];
for (const id of ORDER) {
  const first = present.map((rt) => scenario(rt, id)).find((s) => s);
  if (first === undefined) continue;
  methods.push(`- **${id}** — ${first.title}: ${first.method}`);
  if (first.rows.length === 0) {
    latency.push(
      `| **${id}** ${first.title} | — | ${
        present.map((rt) => {
          const skipped = scenario(rt, id)?.skipped;
          return skipped === undefined ? "—" : `not run: ${skipped}`;
        }).join(" | ")
      } |`,
    );
  }
  first.rows.forEach((r, i) => {
    latency.push(
      `| ${i === 0 ? `**${id}** ${first.title}` : ""} | ${r.name} | ${
        present.map((rt) => cell(row(rt, id, r.name))).join(" | ")
      } |`,
    );
  });
}

const sched: string[] = [
  `| HappyEyeballs, one whole race | ${
    present.map((rt) => LABEL[rt]).join(" | ")
  } |`,
  `|${" --- |".repeat(1 + present.length)}`,
];
for (const endpoints of [2, 8, 64]) {
  const name = `${endpoints} endpoints`;
  const perRace = present.map((rt) => row(rt, "scheduler", name))
    .find((r) => r)?.extra?.["steps per race"];
  sched.push(
    `| ${name} (${perRace} steps) | ${
      present.map((rt) => {
        const r = row(rt, "scheduler", name);
        const rate = r?.extra?.["steps/s"];
        return typeof rate === "number"
          ? `${(rate / 1e6).toFixed(2)} M steps/s`
          : "—";
      }).join(" | ")
    } |`,
  );
}
sched.push(
  `| Singleflight, 10,000 callers on one key | ${
    present.map((rt) => {
      const r = row(rt, "singleflight", "nettrace");
      return r ? `${time(r.median)} / ${time(r.p95)}` : "—";
    }).join(" | ")
  } |`,
);

// ── memory ───────────────────────────────────────────────────────────────

const mem: string[] = [
  "| runtime | variant | connected | heap / dial in flight | RSS / dial in flight | heap / open conn | TCP sockets left open | 100,000 dials: heap before → after GC |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
];
for (const rt of present) {
  for (const variant of ["native", "nettrace"]) {
    const m = results[rt]!.memory[variant];
    const l = results[rt]!.leak[variant];
    const native = results[rt]!.memory.native;
    const rel = (a: number, b: number | undefined) =>
      variant === "nettrace" && b !== undefined && b > 0
        ? ` (**${ratio(a / b)}**)`
        : "";
    mem.push(
      `| ${LABEL[rt]} | ${variant} | ${
        m ? `${m.connected}/${m.dials} in ${time(m.ms)}` : "—"
      } | ${
        m
          ? `${bytes(m.heapPerDialInFlight)}${
            rel(m.heapPerDialInFlight, native?.heapPerDialInFlight)
          }`
          : "—"
      } | ${
        m
          ? `${bytes(m.rssPerDialInFlight)}${
            rel(m.rssPerDialInFlight, native?.rssPerDialInFlight)
          }`
          : "—"
      } | ${m ? bytes(m.heapPerConnHeld) : "—"} | ${
        m ? `${m.tcpSocketsLeftOpen} (listener: ${m.listenerLeftOpen})` : "—"
      } | ${
        l
          ? `${bytes(l.heapStart)} → ${bytes(l.heapEnd)} (${
            ((l.heapRatio - 1) * 100).toFixed(1)
          } %)`
          : "—"
      } |`,
    );
  }
}

// ── targets ──────────────────────────────────────────────────────────────

interface Check {
  target: string;
  perRuntime: Partial<Record<Rt, { text: string; met?: boolean }>>;
}
const checks: Check[] = [];
function check(
  target: string,
  fn: (rt: Rt) => { text: string; met?: boolean } | undefined,
): void {
  const perRuntime: Check["perRuntime"] = {};
  for (const rt of present) {
    perRuntime[rt] = fn(rt) ?? { text: "not run" };
  }
  checks.push({ target, perRuntime });
}

check("a: nettrace / native ≤ 1.05", (rt) => {
  const r = row(rt, "a", "nettrace");
  return r && { text: ratio(r.ratio), met: r.ratio! <= 1.05 };
});
check("a: no-op trace / no trace ≤ 1.02", (rt) => {
  const v = row(rt, "a", "nettrace, no-op trace")?.extra?.["÷ no trace"];
  return typeof v === "number" ? { text: ratio(v), met: v <= 1.02 } : undefined;
});
check("cycle: connect + close, nettrace / native ≤ 1.05", (rt) => {
  const r = row(rt, "cycle", "nettrace");
  const cpu = r?.extra?.["CPU ratio"];
  return r && {
    text: `${ratio(r.ratio)}${
      typeof cpu === "number" ? ` (CPU ${ratio(cpu)})` : ""
    }`,
    met: r.ratio! <= 1.05,
  };
});
check("cycle: with a no-op trace / native ≤ 1.07", (rt) => {
  const r = row(rt, "cycle", "nettrace, no-op trace");
  const cpu = r?.extra?.["CPU ratio"];
  return r && {
    text: `${ratio(r.ratio)}${
      typeof cpu === "number" ? ` (CPU ${ratio(cpu)})` : ""
    }`,
    met: r.ratio! <= 1.07,
  };
});
check("b: /etc/hosts name, nettrace / native ≤ 1.10", (rt) => {
  const r = row(rt, "b-hosts", "nettrace");
  if (r === undefined) {
    const l = row(rt, "b-localhost", "nettrace");
    return {
      text: `not run (${netnsSkipped ?? "no namespace"})${
        l ? `; localhost: ${ratio(l.ratio)}` : ""
      }`,
    };
  }
  return { text: ratio(r.ratio), met: r.ratio! <= 1.10 };
});
check("c: 2 DNS queries per 1,000 dials; time ≤ native", (rt) => {
  const r = row(rt, "c", "nettrace");
  if (r === undefined) return undefined;
  const q = r.extra?.["DNS queries per 1,000 dials"];
  return {
    text: `${q} queries, ${ratio(r.ratio)}`,
    met: q === 2 && r.ratio! <= 1,
  };
});
check("d: IPv6 dropped: ≤ attemptDelay + 50 ms (300 ms)", (rt) => {
  const warm = row(rt, "d", "nettrace");
  // The race itself: every round without history (later rounds with it go
  // straight to IPv4).
  const r = row(rt, "d", "nettrace, no history") ?? warm;
  return r && {
    text: `${time(r.median)}${
      r === warm ? "" : ` (no history; ${time(warm!.median)} with it)`
    }, ${okText(r)}`,
    met: r.median <= 300 && r.failed === 0 && (warm?.failed ?? 0) === 0,
  };
});
check("e: AAAA 2 s late: ≤ resolutionDelay + 100 ms (150 ms)", (rt) => {
  const id = scenario(rt, "e-getaddrinfo") ? "e-getaddrinfo" : "e-fixture";
  const r = row(rt, id, "nettrace");
  const native = row(rt, id, "native");
  return r && {
    text: `${time(r.median)} (${id}; native ${
      native ? time(native.median) : "—"
    })`,
    met: r.median <= 150 && r.failed === 0,
  };
});
check("f: 100 % success, time ≤ Node's net.connect", (rt) => {
  const r = row(rt, "f", "nettrace");
  const cold = row(rt, "f", "nettrace, no history");
  const nodeNative = row("node", "f", "native");
  if (r === undefined) return undefined;
  const worst = Math.max(r.median, cold?.median ?? 0);
  return {
    text: `${time(r.median)}, ${okText(r)}${
      cold ? ` (no history: ${time(cold.median)}, ${okText(cold)})` : ""
    }; Node native ${nodeNative ? time(nodeNative.median) : "—"}`,
    met: r.failed === 0 && (cold?.failed ?? 0) === 0 &&
      (nodeNative === undefined ? undefined : worst <= nodeNative.median),
  };
});
check("TLS: nettrace TLS dial / native TLS connect ≤ 1.10", (rt) => {
  const r = row(rt, "tls", "nettrace");
  const v = r?.extra?.["÷ native + TCP_NODELAY"];
  return r && {
    text: `${ratio(r.ratio)}${
      typeof v === "number" ? ` (${ratio(v)} of native + TCP_NODELAY)` : ""
    }`,
    met: r.ratio! <= 1.10,
  };
});
check("undici, fresh connections: undiciConnector / undici's ≤ 1.10", (rt) => {
  const r = row(rt, "undici", "nettrace");
  return r && { text: ratio(r.ratio), met: r.ratio! <= 1.10 };
});
check("undici over HTTPS, fresh connections: ≤ 1.10", (rt) => {
  const r = row(rt, "undici-https", "nettrace");
  return r && { text: ratio(r.ratio), met: r.ratio! <= 1.10 };
});
check("scheduler: ≥ 1,000,000 steps/s (8 endpoints)", (rt) => {
  const rate = row(rt, "scheduler", "8 endpoints")?.extra?.["steps/s"];
  return typeof rate === "number"
    ? { text: `${(rate / 1e6).toFixed(2)} M/s`, met: rate >= 1e6 }
    : undefined;
});
check("memory: heap / in-flight dial ≤ 1.25 × native", (rt) => {
  const m = results[rt]!.memory;
  if (!m.native || !m.nettrace) return undefined;
  const r = m.nettrace.heapPerDialInFlight / m.native.heapPerDialInFlight;
  return { text: ratio(r), met: r <= 1.25 };
});
check("memory: RSS / in-flight dial ≤ 1.25 × native", (rt) => {
  const m = results[rt]!.memory;
  if (!m.native || !m.nettrace) return undefined;
  const r = m.nettrace.rssPerDialInFlight / m.native.rssPerDialInFlight;
  return { text: ratio(r), met: r <= 1.25 };
});
check("10,000 concurrent: all connect, nothing left open", (rt) => {
  const m = results[rt]!.memory.nettrace;
  return m && {
    text: `${m.connected}/${m.dials}, ${m.tcpSocketsLeftOpen} left`,
    met: m.connected === m.dials && m.tcpSocketsLeftOpen <= 0 &&
      m.listenerLeftOpen === 0,
  };
});
check("100,000 dials then GC: heap within 5 %", (rt) => {
  const l = results[rt]!.leak.nettrace;
  return l && {
    text: `${((l.heapRatio - 1) * 100).toFixed(1)} %`,
    met: Math.abs(l.heapRatio - 1) <= 0.05,
  };
});

function okText(r: Row): string {
  return `${r.succeeded}/${r.succeeded! + (r.failed ?? 0)} ok`;
}

const mark = (met: boolean | undefined) =>
  met === undefined ? "" : met ? " ✅" : " ❌";
const targets: string[] = [
  `| target | ${present.map((rt) => LABEL[rt]).join(" | ")} |`,
  `|${" --- |".repeat(1 + present.length)}`,
  ...checks.map((c) =>
    `| ${c.target} | ${
      present.map((rt) => {
        const v = c.perRuntime[rt]!;
        return `${v.text}${mark(v.met)}`;
      }).join(" | ")
    } |`
  ),
];

// ── output ───────────────────────────────────────────────────────────────

const machineLine =
  `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.kernel}; ${
    present.map((rt) => `${LABEL[rt]} ${results[rt]!.version}`).join(", ")
  }; ${machine.date}.`;

const skippedLines = netnsSkipped === undefined ? [] : [
  "",
  `Scenarios b-hosts, d, e-getaddrinfo and f were not run: ${netnsSkipped}.`,
];

const tables = [
  `Measured on ${machineLine}`,
  "Cells: median / p95 of the connect time, **×** = median ÷ the native connect's median in the same run (interleaved).",
  "",
  ...latency,
  ...skippedLines,
  "",
  ...sched,
  "",
  "Memory: 10,000 dials to a loopback listener started at once, measured after a GC while all are in flight (per dial; JS heap and RSS growth, median of 5 runs), and after all have connected; then closed. After 100,000 sequential dials and a GC, the heap against where it started.",
  "",
  ...mem,
  "",
  TARGETS_TITLE,
  "",
  ...targets,
];

const markdown = [
  "# nettrace benchmark results",
  "",
  "Generated by `npm run bench:compare` (scripts/bench_compare.sh); see bench/README.md for the methods.",
  "",
  ...tables,
  "",
  "## Methods",
  "",
  ...methods,
  "",
].join("\n");

writeFileSync(`${dest}/results.md`, markdown);
writeFileSync(
  `${dest}/results.json`,
  JSON.stringify(
    {
      machine,
      runtimes: results,
      netnsSkipped: netnsSkipped ?? null,
      targets: checks,
    },
    null,
    2,
  ) + "\n",
);

// docs/benchmarks.md shows the measurements; the targets stay in results.md.
const DOC = "docs/benchmarks.md";
if (dest === "bench" && existsSync(DOC)) {
  const start = "<!-- bench:results:start -->";
  const end = "<!-- bench:results:end -->";
  const doc = readFileSync(DOC, "utf8");
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  const shown = tables.slice(0, tables.indexOf(TARGETS_TITLE));
  while (shown.at(-1) === "") shown.pop();
  if (i >= 0 && j > i) {
    writeFileSync(
      DOC,
      `${doc.slice(0, i + start.length)}\n\n${shown.join("\n")}\n\n${
        doc.slice(j)
      }`,
    );
  } else {
    console.error(`${DOC} has no bench:results markers; left as it is`);
  }
}
console.log(`wrote ${dest}/results.md and ${dest}/results.json`);
