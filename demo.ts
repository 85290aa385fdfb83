/**
 * The demo: `npm run demo`, `deno task demo`, `bun run demo`.
 *
 * With no target it stages a real Happy Eyeballs race on loopback: a DNS
 * server (the test fixture) answers `race.test` with AAAA `::1` (20 ms late)
 * and A `127.0.0.1`; `[::1]:P` is a listener whose accept queue is full, so
 * the IPv6 attempt hangs, and `127.0.0.1:P` is an echo server. The dial
 * tries IPv6 first, starts IPv4 when the attempt delay runs out, IPv4 wins
 * and IPv6 is cancelled. It prints the timeline and a waterfall, then sends
 * a line through the connection and reads the echo. Then it dials the same
 * name again through the same resolver and dialer: the connection history
 * (RFC 8305 §4) now knows IPv6 was outpaced, so IPv4 goes first and
 * connects at once. Each attempt shows why it was ordered where it was.
 *
 * With `--tls` the race is dialled over TLS: `127.0.0.1:P` is a TLS echo
 * server whose certificate (for race.test) the test CA in
 * `tests/fixtures/tls/` signed, and the dial trusts that CA and offers
 * ALPN h2 and http/1.1; the timeline shows the winner's handshake.
 *
 * After each dial's timeline it prints the curl-style breakdown that
 * `recordTimings()` / `formatTimings()` give: namelookup, connect,
 * appconnect and total, and one row per attempt.
 *
 * With a URL (`npm run demo -- http://localhost:8080/`, or https) it
 * fetches it once with `createFetch` and prints that request's dial as the
 * timeline above, then httpstat's breakdown (`formatHttpstat()`: DNS, TCP,
 * TLS, server processing, content transfer, each attempt) and the status;
 * `--ca FILE` applies to an https URL.
 *
 * With a target (`npm run demo -- localhost:8080`) it dials that with the
 * system resolver and prints the same timeline (nothing is sent; with
 * `--tls`, a TLS handshake against the system's roots, or the CA in
 * `--ca FILE`); with `--repeat` it dials it a second time, as the staged
 * race does.
 *

 * Every time shown — timeline, waterfall, breakdown — is what the core's
 * recorder (`recordTimings()`) noted on the dial's hooks. The parts live
 * in `demo/`: args, adapter, stage (the loopback race), run (one dial),
 * notes, events, timeline, waterfall, report. Exit status: 0 connected,
 * 1 the dial failed, 2 bad arguments.
 *
 * @module
 */

import process from "node:process";
import type { Conn } from "./mod.ts";
import { loadAdapter } from "./demo/adapter.ts";
import { type Args, parseArgs, USAGE, UsageError } from "./demo/args.ts";
import { printText, type Report } from "./demo/report.ts";
import { fetchOnce } from "./demo/fetch_run.ts";
import { dialOnce } from "./demo/run.ts";
import { argumentError, readCa, setUp } from "./demo/setup.ts";
import { echo } from "./demo/stage.ts";

async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(
      `demo: ${error.message}\nRun with --help for the options.\n`,
    );
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const { adapter, runtime } = await loadAdapter();
  const ca = args.ca === undefined ? undefined : readCa(args.ca);
  const problem = ca instanceof Error
    ? ca.message
    : argumentError(args, adapter);
  if (problem !== undefined) {
    process.stderr.write(`demo: ${problem}\n`);
    return 2;
  }
  const { stage, options, ...about } = await setUp(
    args,
    adapter,
    ca as string | undefined,
  );
  let conn: Conn | undefined;
  let report: Report;
  if (about.url !== undefined) {
    const { run, http } = await fetchOnce(
      about.url,
      options,
      ca as string | undefined,
    );
    report = { runtime, ...about, ...run, http };
    if (args.json) {
      process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    } else {
      printText(report);
    }
    return report.error === undefined ? 0 : 1;
  }
  try {
    const first = await dialOnce(adapter, about.target, options);
    conn = first.conn;
    report = { runtime, ...about, ...first.run };
    if (conn !== undefined && stage !== undefined) {
      report.echo = await echo(conn, "hello from nettrace\n");
    }
    conn?.close();
    conn = undefined;
    if (stage !== undefined || args.repeat) {
      const again = await dialOnce(adapter, about.target, options);
      report.repeat = again.run;
      again.conn?.close();
    }
  } finally {
    conn?.close();
    await stage?.close();
  }
  if (args.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  } else {
    printText(report);
  }
  return report.error === undefined && report.repeat?.error === undefined
    ? 0
    : 1;
}

const argv = "Deno" in globalThis
  ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args
  : process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `demo: ${
        error instanceof Error ? error.stack ?? error.message : error
      }\n`,
    );
    process.exitCode = 1;
  },
);
