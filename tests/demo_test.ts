// The demo (demo.ts) run as a child process with the current runtime, as
// `npm run demo`, `deno task demo` and `bun run demo` run it: its staged race
// on loopback (also over TLS, --tls) and the repeat dial that history puts
// IPv4 first in, its JSON and text output with the curl-style breakdown,
// its exit codes.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { DialTimings, FamilyLookupTiming } from "../mod.ts";
import { startEchoServer } from "./_tcp_fixtures.ts";
import { startHttpServer } from "./_http_fixtures.ts";
import { startTlsServer } from "./_tls_fixtures.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `demo.ts ARGS` with this runtime; kills it after 20 s. */
function runDemo(args: string[]): Promise<Run> {
  const argv = "Deno" in globalThis
    ? ["run", "-A", "demo.ts", ...args]
    : ["demo.ts", ...args];
  return runCommand(process.execPath, argv);
}

/** Runs `command ARGV` in the repository; kills it after 20 s. */
function runCommand(
  command: string,
  argv: string[],
  env: Record<string, string> = {},
): Promise<Run> {
  const child = spawn(command, argv, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => stdout += chunk);
  child.stderr.on("data", (chunk: string) => stderr += chunk);
  return new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface DemoEvent {
  t: number;
  type: string;
  family?: number;
  attempt?: number;
  addr?: string;
  addrs?: string[];
  cause?: string;
  outcome?: string;
  alpnProtocol?: string | null;
  serverName?: string;
  sortedBy?: string;
  history?: { outcome: string; connectTime?: number; used: boolean };
  historyDelay?: number;
  source?: string | null;
}

interface DialRun {
  history: { address: string; outcome: string; age: number }[];
  events: DemoEvent[];
  winner?: { attempt: number; addr: string; family: number; at: number };
  total: number;
  error?: string;
  timings?: DialTimings;
}

interface DemoReport extends DialRun {
  runtime: string;
  mode: string;
  target: string;
  network: string;
  tls: boolean;
  attemptDelay: number;
  echo?: { sent: string; received: string };
  repeat?: DialRun;
  url?: string;
  http?: {
    status?: number;
    bytes?: number;
    error?: string;
    timings: {
      method?: string;
      url?: string;
      numConnects: number;
      reused: boolean;
      curl: Record<string, number | undefined>;
      dial?: DialTimings;
    };
  };
}

test("demo --json races race.test on loopback: IPv4 wins after the attempt delay of a hung IPv6 attempt", async () => {
  const run = await runDemo(["--json"]);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as DemoReport;
  assert.equal(report.mode, "race");
  assert.match(report.target, /^race\.test:\d+$/);
  assert.equal(report.error, undefined);

  const answers = report.events.filter((e) => e.type === "dnsAnswer");
  assert.deepEqual(
    answers.map((e) => [e.family, e.addrs]).sort(),
    [[4, ["127.0.0.1"]], [6, ["::1"]]],
  );

  const starts = report.events.filter((e) => e.type === "connectStart");
  assert.equal(starts.length, 2);
  assert.deepEqual(
    starts.map((e) => [e.attempt, e.family, e.cause]),
    [[0, 6, "first"], [1, 4, "delay"]],
  );
  // The IPv4 attempt waited out the attempt delay (250 ms) after IPv6's.
  assert.ok(starts[1].t - starts[0].t >= 240, JSON.stringify(starts));

  const dones = report.events.filter((e) => e.type === "connectDone");
  assert.deepEqual(
    dones.map((e) => [e.attempt, e.outcome]).sort(),
    [[0, "cancelled"], [1, "connected"]],
  );

  assert.ok(report.winner !== undefined);
  assert.equal(report.winner.family, 4);
  assert.equal(report.winner.attempt, 1);
  assert.ok(report.winner.at > starts[0].t);
  assert.ok(report.total >= report.winner.at);

  assert.ok(report.echo !== undefined);
  assert.equal(report.echo.received, report.echo.sent);

  // RFC 6724 put ::1 first; history knew nothing yet. The fixture answers
  // A at once and AAAA 20 ms later, so both are known when the first attempt
  // starts — unless a loaded machine handled the AAAA answer first, and a
  // positive AAAA answer starts IPv6 at once with nothing to sort it against.
  const aFirst = answers.find((e) => e.family === 4)!.t <= starts[0].t;
  assert.equal(starts[0].sortedBy, aFirst ? "precedence" : undefined);
  assert.deepEqual(report.history, []);
  assert.ok(starts.every((e) => e.history === undefined));

  // The recordTimings() breakdown: no TLS, IPv4 won on the attempt delay.
  assert.equal(report.tls, false);
  const t = report.timings;
  assert.ok(t !== undefined);
  assert.equal(t.outcome, "connected");
  assert.equal(t.tls, undefined);
  assert.equal(t.curl.appconnect, undefined);
  assert.deepEqual(
    [t.lookup?.ipv4?.count, t.lookup?.ipv6?.count],
    [1, 1],
  );
  assert.deepEqual(
    t.attempts.map((a) => [a.attempt, a.family, a.cause, a.outcome, a.won]),
    [[0, 6, "first", "cancelled", false], [1, 4, "delay", "connected", true]],
  );
  // namelookup is the A answer (IPv4 won), before the connect, the total.
  assert.equal(t.curl.namelookup, t.lookup?.ipv4?.end);
  assert.ok(t.curl.connect! >= t.attempts[1]!.start, JSON.stringify(t));
  assert.ok(t.curl.total! >= t.curl.connect!, JSON.stringify(t));
  assert.ok(t.attempts[1]!.start - t.attempts[0]!.start >= 240);
});

test("demo --json dials race.test again: history puts IPv4 first and it connects without the attempt delay", async () => {
  const run = await runDemo(["--json"]);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as DemoReport;
  const again = report.repeat;
  assert.ok(again !== undefined, "the second dial is under repeat");
  assert.equal(again.error, undefined);

  // What history knew as the second dial started.
  assert.deepEqual(
    again.history.map((k) => [k.address, k.outcome]).sort(),
    [["127.0.0.1", "connected"], ["::1", "outpaced"]],
  );

  const starts = again.events.filter((e) => e.type === "connectStart");
  assert.equal(starts.length, 1, JSON.stringify(again.events));
  assert.deepEqual(
    [starts[0].attempt, starts[0].family, starts[0].cause],
    [0, 4, "first"],
  );
  assert.equal(starts[0].sortedBy, "avoid-failed");
  assert.equal(starts[0].history?.outcome, "connected");
  assert.equal(starts[0].historyDelay, 100);
  // It started as soon as the A answer came: no attempt delay waited.
  assert.ok(starts[0].t < 100, JSON.stringify(starts));

  assert.ok(again.winner !== undefined);
  assert.deepEqual(
    [again.winner.attempt, again.winner.family],
    [0, 4],
  );
  assert.ok(again.winner.at < 200, JSON.stringify(again.winner));
  assert.ok(again.total < report.total, `${again.total} ${report.total}`);
});

test("demo prints a timeline and an 80-column waterfall of the race as text", async () => {
  const run = await runDemo(["--attempt-delay", "100"]);
  assert.equal(run.code, 0, run.stderr);
  const out = run.stdout;
  assert.ok(!out.includes("\x1b["), "no colours when stdout is not a TTY");
  assert.match(out, /attempt delay 100 ms/);
  assert.match(out, /dns +AAAA +::1/);
  assert.match(out, /dns +A +127\.0\.0\.1/);
  const v6 = out.search(/#0 \[::1\]:\d+ starts \(first attempt\)/);
  const v4 = out.search(/#1 127\.0\.0\.1:\d+ starts \(attempt delay ran out\)/);
  assert.ok(v6 >= 0 && v4 > v6, out);
  assert.match(out, /#1 127\.0\.0\.1:\d+ connected/);
  assert.match(out, /#0 \[::1\]:\d+ cancelled/);
  assert.match(out, /returns #1 127\.0\.0\.1:\d+ \(IPv4\)/);
  assert.match(out, /^winner +#1 127\.0\.0\.1:\d+ \(IPv4\) connected/m);
  assert.match(out, /^total +\d+\.\d ms$/m);
  assert.match(out, /^echo .*read it back/m);
  // The curl-style breakdown of the first dial, after its waterfall.
  const breakdown = out.indexOf("\nbreakdown ");
  assert.ok(breakdown > out.indexOf("\nwaterfall"), out);
  assert.match(out, /^ +namelookup: +\d+\.\d ms +AAAA 1 at [\d.]+ ms, A 1 at/m);
  assert.match(out, /^ +connect: +\d+\.\d ms +2 attempts$/m);
  assert.match(out, /^ +appconnect: +— +no TLS$/m);
  assert.match(out, /^ +0 +\[::1\]:\d+ +first .* cancelled$/m);
  assert.match(out, /^ +\*1 +127\.0\.0\.1:\d+ +delay .* connected$/m);
  assert.match(
    out,
    /#0 \[::1\]:\d+ starts \(first attempt\)\n +· sorted first by precedence \(RFC 6724 rule 6\)/,
  );
  // The second dial: IPv4 first, and the note saying history put it there.
  const again = out.indexOf("\nagain ");
  assert.ok(again > v4, out);
  const second = out.slice(again);
  assert.match(second, /^history +127\.0\.0\.1 connected in/m);
  assert.match(second, /^ +\[::1\] outpaced \d+ ms ago$/m);
  assert.match(
    second,
    /#0 127\.0\.0\.1:\d+ starts \(first attempt\)\n +· sorted first by history: \[::1\] outpaced \d+ ms ago\n/,
  );
  assert.match(second, /· next attempt after 100 ms, from history/);
  assert.match(second, /^winner +#0 127\.0\.0\.1:\d+ \(IPv4\) connected/m);
  assert.doesNotMatch(second, /\[::1\]:\d+ starts/);
  // The waterfall (of the first dial): one bar per DNS family and attempt.
  const bars = out.split("\n").filter((line) => line.includes("│"));
  assert.equal(bars.length, 4, out);
  assert.match(bars[0], /^ +DNS AAAA +│/);
  assert.match(bars[1], /^ +DNS A +│/);
  assert.match(bars[2], /^ +#0 \[::1\]:\d+ +│/);
  assert.match(bars[3], /^ +#1 127\.0\.0\.1:\d+ +│/);
  for (const line of out.split("\n")) {
    assert.ok([...line].length <= 80, `longer than 80 columns: ${line}`);
  }
});

test("demo --repeat dials a target twice; without it, once", async () => {
  // localhost is answered locally (::1 and 127.0.0.1); only IPv4 listens,
  // so ::1 is refused and history then puts 127.0.0.1 first.
  const server = await startEchoServer({ host: "127.0.0.1" });
  try {
    const target = `localhost:${server.port}`;
    const once = await runDemo(["--json", target]);
    assert.equal(once.code, 0, once.stderr);
    const single = JSON.parse(once.stdout) as DemoReport;
    assert.equal(single.mode, "target");
    assert.equal(single.repeat, undefined);

    const twice = await runDemo(["--json", "--repeat", target]);
    assert.equal(twice.code, 0, twice.stderr);
    const report = JSON.parse(twice.stdout) as DemoReport;
    const first = report.events.filter((e) => e.type === "connectStart");
    assert.deepEqual(first.map((e) => e.family), [6, 4]);
    assert.ok(report.repeat !== undefined);
    const starts = report.repeat.events.filter((e) =>
      e.type === "connectStart"
    );
    assert.deepEqual(
      starts.map((e) => [e.family, e.sortedBy]),
      [[4, "avoid-failed"]],
    );
    assert.deepEqual(
      report.repeat.history.map((k) => [k.address, k.outcome]).sort(),
      [["127.0.0.1", "connected"], ["::1", "failed"]],
    );
  } finally {
    await server.close();
  }
});

test("demo exits 2 with a message on a bad flag", async () => {
  const family = await runDemo(["--family", "5"]);
  assert.equal(family.code, 2);
  assert.equal(family.stdout, "");
  assert.match(family.stderr, /--family must be 4 or 6, not "5"/);

  const unknown = await runDemo(["--bogus"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option "--bogus"/);
});

test("demo exits 2 when the target has no port", async () => {
  const run = await runDemo(["localhost"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /must be host:port.*missing port in address/);
});

test("demo --help prints the usage and exits 0", async () => {
  const run = await runDemo(["--help"]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^Usage: demo \[options\] \[host:port\]/);
  assert.match(run.stdout, /--attempt-delay MS/);
  assert.match(run.stdout, /--repeat /);
  assert.match(run.stdout, /--tls /);
});

test("demo --json --tls races race.test over TLS: IPv4 wins, one handshake on it, and the breakdown has appconnect", async () => {
  const run = await runDemo(["--json", "--tls"]);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as DemoReport;
  assert.equal(report.tls, true);
  assert.equal(report.error, undefined);

  const tlsStarts = report.events.filter((e) => e.type === "tlsStart");
  assert.deepEqual(
    tlsStarts.map((e) => [e.attempt, e.serverName]),
    [[1, "race.test"]],
  );
  const tlsDones = report.events.filter((e) => e.type === "tlsDone");
  assert.deepEqual(
    tlsDones.map((e) => [e.attempt, e.outcome, e.alpnProtocol]),
    [[1, "connected", "h2"]],
  );
  assert.ok(report.winner !== undefined);
  assert.equal(report.winner.attempt, 1);
  assert.ok(report.echo !== undefined);
  assert.equal(report.echo.received, report.echo.sent);

  const t = report.timings;
  assert.ok(t !== undefined);
  assert.equal(t.outcome, "connected");
  assert.equal(t.tls?.attempt, 1);
  assert.equal(t.tls?.serverName, "race.test");
  assert.equal(t.tls?.alpnProtocol, "h2");
  assert.equal(t.tls?.error, undefined);
  const { namelookup, connect, appconnect, total } = t.curl;
  assert.ok(
    namelookup !== undefined && connect !== undefined &&
      appconnect !== undefined && total !== undefined,
    JSON.stringify(t.curl),
  );
  assert.ok(
    namelookup <= connect && connect <= appconnect && appconnect <= total,
    JSON.stringify(t.curl),
  );
  assert.equal(appconnect, t.tls?.end);
  assert.deepEqual(
    t.attempts.map((a) => [a.attempt, a.outcome, a.tls?.outcome, a.won]),
    [[0, "cancelled", undefined, false], [1, "connected", "connected", true]],
  );

  // The second dial: history puts IPv4 first; one attempt, one handshake.
  const again = report.repeat?.timings;
  assert.ok(again !== undefined);
  assert.deepEqual(
    again.attempts.map((a) => [a.family, a.tls?.outcome, a.won]),
    [[4, "connected", true]],
  );
  assert.ok(again.curl.appconnect! < appconnect, JSON.stringify(again.curl));
});

test("demo --tls prints the handshake in the timeline and waterfall, and the breakdown with appconnect, within 80 columns", async () => {
  const run = await runDemo(["--tls"]);
  assert.equal(run.code, 0, run.stderr);
  const out = run.stdout;
  assert.match(out, /^nettrace demo .*: dial race\.test:\d+ over tcp \+ TLS$/m);
  assert.match(out, /127\.0\.0\.1:\d+ echoes over TLS \(race\.test, test CA\)/);
  assert.match(out, /tls +#1 handshake starts \(as race\.test\)/);
  assert.match(out, /tls +#1 handshake done \((TLSv1\.\d, )?ALPN h2\) after/);
  assert.match(out, /^ +#1 TLS +│.*│ h2 ✓$/m);
  assert.match(out, /^ +appconnect: +\d+\.\d ms +(TLSv1\.\d, )?ALPN h2$/m);
  assert.match(
    out,
    /^ +# +address +cause +start +tcp end +tcp +tls end +tls$/m,
  );
  assert.match(
    out,
    /^ +\*1 +127\.0\.0\.1:\d+ +delay .* connected +\d+\.\d +connected$/m,
  );
  assert.match(out, /^tls +(TLSv1\.\d, )?ALPN h2, handshake done at/m);
  assert.match(out, /^echo .*read it back/m);
  for (const line of out.split("\n")) {
    assert.ok([...line].length <= 80, `longer than 80 columns: ${line}`);
  }
});

/** This runtime's name, as the demo's report starts its `runtime`. */
const RUNTIME = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

test("demo launcher runs the runtime that launched it, whatever npm_config_user_agent says, and --json writes only JSON to stdout", async () => {
  const server = await startEchoServer({ host: "127.0.0.1" });
  try {
    const target = `127.0.0.1:${server.port}`;
    // What `npx deno task demo` / `npx bun run demo` inherit from npx; under
    // Node, another runtime's agent: the launcher must not believe either.
    const agent = RUNTIME === "node"
      ? "bun/1.4.5 npm/? node/v24.0.0 linux x64"
      : "npm/10.9.2 node/v24.0.0 linux x64 workspaces/false";
    const argv = RUNTIME === "deno"
      ? ["task", "demo", "--json", target]
      : RUNTIME === "bun"
      ? ["run", "demo", "--json", target]
      : undefined;
    const run = argv === undefined
      ? await runCommand("bash", ["scripts/demo.sh", "--json", target], {
        npm_config_user_agent: agent,
      })
      : await runCommand(process.execPath, argv, {
        npm_config_user_agent: agent,
      });
    assert.equal(run.code, 0, run.stderr);
    // Only the JSON document on stdout: deno's "Task demo" and bun's
    // "$ bash scripts/demo.sh" lines go to stderr.
    const report = JSON.parse(run.stdout) as DemoReport;
    assert.match(report.runtime, new RegExp(`^${RUNTIME} \\d`));
    assert.equal(report.winner?.addr, target);
  } finally {
    await server.close();
  }
});

test(
  "demo: `npm run -s demo -- --json` (as the help says) writes only JSON to stdout",
  {
    skip: RUNTIME !== "node" && "npm is run from the Node tests",
  },
  async () => {
    const server = await startEchoServer({ host: "127.0.0.1" });
    try {
      const target = `127.0.0.1:${server.port}`;
      const run = await runCommand("npm", [
        "run",
        "-s",
        "demo",
        "--",
        "--json",
        target,
      ]);
      assert.equal(run.code, 0, run.stderr);
      const report = JSON.parse(run.stdout) as DemoReport;
      assert.match(report.runtime, /^node \d/);
      const help = await runDemo(["--help"]);
      assert.match(help.stdout, /npm run -s demo -- --json/);
    } finally {
      await server.close();
    }
  },
);

test("demo prints the dial's real error in the breakdown when the address is invalid, not `dial ?: pending`", async () => {
  const run = await runDemo(["localhost:99999"]);
  assert.equal(run.code, 1, run.stderr);
  assert.doesNotMatch(run.stdout, /dial \?|pending/);
  assert.match(
    run.stdout,
    /^ +dial localhost:99999 \(tcp\): failed: dial tcp: address 99999: invalid port$/m,
  );
  assert.match(run.stdout, /^error +dial tcp: address 99999: invalid port$/m);

  const json = await runDemo(["--json", "localhost:99999"]);
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout) as DemoReport;
  assert.equal(report.timings?.outcome, "failed");
  assert.equal(report.timings?.address, "localhost:99999");
  assert.equal(
    report.timings?.error,
    "dial tcp: address 99999: invalid port",
  );
  assert.deepEqual(
    report.events.map((e) => e.type),
    ["failed"],
  );
});

test("demo --tls --ca FILE trusts that CA for a target; without it the system's roots refuse the test certificate", async () => {
  const server = await startTlsServer({
    host: "127.0.0.1",
    alpnProtocols: ["h2", "http/1.1"],
  });
  try {
    const target = `127.0.0.1:${server.port}`;
    const ca = "tests/fixtures/tls/ca.pem";
    const run = await runDemo(["--json", "--tls", "--ca", ca, target]);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as DemoReport;
    assert.equal(report.error, undefined);
    assert.equal(report.timings?.tls?.alpnProtocol, "h2");
    assert.equal(report.timings?.tls?.serverName, "127.0.0.1");
    assert.equal(report.timings?.tls?.error, undefined);

    const untrusted = await runDemo(["--json", "--tls", target]);
    assert.equal(untrusted.code, 1, untrusted.stderr);
    const refused = JSON.parse(untrusted.stdout) as DemoReport;
    assert.ok(refused.error !== undefined);
    assert.equal(refused.timings?.outcome, "failed");
    assert.ok(refused.timings?.tls?.error !== undefined);

    const text = await runDemo(["--tls", "--ca", ca, target]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^ +appconnect: +\d+\.\d ms +(TLSv1\.\d, )?ALPN h2$/m,
    );
  } finally {
    await server.close();
  }
});

test("demo --ca needs --tls and a readable file (exit 2)", async () => {
  const alone = await runDemo(["--ca", "tests/fixtures/tls/ca.pem"]);
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--ca applies to --tls only/);
  const missing = await runDemo([
    "--tls",
    "--ca",
    "no/such/ca.pem",
    "127.0.0.1:1",
  ]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stdout, "");
  assert.match(missing.stderr, /--ca: cannot read "no\/such\/ca\.pem"/);
  const help = await runDemo(["--help"]);
  assert.match(help.stdout, /--ca FILE/);
});

test("demo localhost: the timeline's answer times are the breakdown's, and no DNS query is claimed for a name the system resolver answers", async () => {
  const server = await startEchoServer({ host: "127.0.0.1" });
  try {
    const target = `localhost:${server.port}`;
    const json = await runDemo(["--json", target]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as DemoReport;
    const lookup = report.timings?.lookup;
    assert.ok(lookup !== undefined);
    const answers = report.events.filter((e) => e.type === "dnsAnswer");
    assert.ok(answers.length > 0, JSON.stringify(report.events));
    for (const e of answers) {
      const own: FamilyLookupTiming | undefined = e.family === 4
        ? lookup.ipv4
        : lookup.ipv6;
      assert.equal(e.t, own?.end, JSON.stringify({ e, lookup }));
    }
    for (const a of report.timings!.attempts) {
      const start = report.events.find((e) =>
        e.type === "connectStart" && e.attempt === a.attempt
      );
      assert.equal(start?.t, a.start);
    }
    assert.ok(report.events.every((e) => e.type !== "dnsQuery"));

    const text = await runDemo([target]);
    assert.equal(text.code, 0, text.stderr);
    const out = text.stdout;
    assert.doesNotMatch(out, /query sent/);
    assert.match(out, /resolver: system \(\/etc\/hosts, then DNS\)/);
    // The A row of the timeline and "A 1 at X ms" of the breakdown agree.
    const row = out.match(/^ +([\d.]+) ms +dns +A +127\.0\.0\.1$/m);
    const note = out.match(/namelookup: .*\bA 1 at ([\d.]+) ms/);
    assert.ok(row !== null && note !== null, out);
    assert.equal(row[1], note[1]);
  } finally {
    await server.close();
  }
});

test("demo http://127.0.0.1:P/path fetches it: the dial's timeline, httpstat's rows, the status; --json has the request timings", async () => {
  const server = await startHttpServer((req, res) => {
    res.statusCode = 201;
    res.end(`hello ${req.url}`);
  });
  try {
    const url = `http://127.0.0.1:${server.port}/some/path`;
    const text = await runDemo([url]);
    assert.equal(text.code, 0, text.stderr);
    const out = text.stdout;
    assert.match(out, /GET http:\/\/127\.0\.0\.1:\d+\/some\/path/);
    assert.match(out, /connect +#0 127\.0\.0\.1:\d+ starts/);
    assert.match(out, /TCP Connection +Server Processing +Content Transfer/);
    assert.match(out, /^ +connect:\d+ms$/m);
    assert.match(out, /^ +starttransfer:\d+ms$/m);
    assert.match(out, /^ +total:\d+ms$/m);
    assert.match(out, /^ +\* 127\.0\.0\.1:\d+ +\d+ms → \d+ms +connected$/m);
    assert.match(out, /^status +HTTP 201 Created, 16 bytes$/m);

    const json = await runDemo(["--json", url]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as DemoReport;
    assert.equal(report.mode, "url");
    assert.equal(report.url, url);
    assert.equal(report.target, `127.0.0.1:${server.port}`);
    assert.equal(report.http?.status, 201);
    assert.equal(report.http?.bytes, 16);
    const t = report.http!.timings;
    assert.equal(t.method, "GET");
    assert.equal(t.url, url);
    assert.equal(t.reused, false);
    assert.equal(t.numConnects, 1);
    const { connect, pretransfer, starttransfer, total } = t.curl;
    assert.ok(connect !== undefined && pretransfer !== undefined);
    assert.ok(starttransfer !== undefined && total !== undefined);
    assert.ok(connect <= pretransfer, JSON.stringify(t.curl));
    assert.ok(pretransfer <= starttransfer, JSON.stringify(t.curl));
    assert.ok(starttransfer <= total, JSON.stringify(t.curl));
    assert.equal(t.dial?.outcome, "connected");
    assert.deepEqual(report.timings, t.dial);
    assert.equal(report.winner?.addr, `127.0.0.1:${server.port}`);
    assert.deepEqual(server.requests, ["GET /some/path", "GET /some/path"]);
  } finally {
    await server.close();
  }
});

test("demo --ca FILE https://localhost:P/ trusts that CA: TLS in the timeline and httpstat's TLS row; without it the request fails (exit 1)", async () => {
  const server = await startHttpServer(undefined, { tls: true });
  try {
    const url = `https://localhost:${server.port}/`;
    const ca = "tests/fixtures/tls/ca.pem";
    const text = await runDemo(["--ca", ca, url]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /DNS Lookup +TCP Connection +TLS Handshake/);
    assert.match(text.stdout, /^ +appconnect:\d+ms$/m);
    assert.match(text.stdout, /^status +HTTP 200 OK, 5 bytes$/m);

    const json = await runDemo(["--json", "--ca", ca, url]);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as DemoReport;
    assert.equal(report.tls, true);
    assert.equal(report.http?.status, 200);
    assert.ok(report.http?.timings.curl.appconnect !== undefined);
    // The request's own dial did the handshake (Bun may not report ALPN).
    assert.ok(report.timings?.tls !== undefined, JSON.stringify(report));
    assert.equal(report.timings.tls.error, undefined);

    const untrusted = await runDemo(["--json", url]);
    assert.equal(untrusted.code, 1, untrusted.stderr);
    const refused = JSON.parse(untrusted.stdout) as DemoReport;
    assert.ok(refused.http?.error !== undefined);
    assert.equal(refused.http?.status, undefined);
  } finally {
    await server.close();
  }
});
