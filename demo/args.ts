/**
 * The demo's command line: its usage text and the parser.
 *
 * @module
 */

import type { Family } from "../mod.ts";

export const USAGE = `Usage: demo [options] [host:port]
       demo [options] http(s)://host:port/path

Dials host:port with nettrace (RFC 8305 Happy Eyeballs) and prints the
timeline: each DNS answer, each connection attempt, the winner. With no
host:port, stages a race on loopback: race.test has AAAA ::1 (hangs) and
A 127.0.0.1 (echoes); IPv4 wins after the attempt delay. Then it dials
race.test again: the connection history now puts IPv4 first. With a URL,
fetches it (GET, createFetch) and prints its dial's timeline and an
httpstat breakdown: DNS, each TCP attempt, TLS, server processing,
content transfer, and the HTTP status.

Options:
  --attempt-delay MS      RFC 8305 Connection Attempt Delay (default 250;
                          the dial clamps it to 10..2000)
  --resolution-delay MS   RFC 8305 Resolution Delay (default 50)
  --family 4|6            dial over IPv4 only (tcp4) or IPv6 only (tcp6)
  --timeout MS            give up the whole dial after MS (default 10000
                          with a target, 3000 for the staged race)
  --repeat                dial host:port a second time, to show what the
                          connection history changes (the staged race
                          always does)
  --tls                   dial over TLS (ALPN h2, http/1.1): the staged
                          race's IPv4 server speaks TLS with a certificate
                          of the test CA (tests/fixtures/tls), which the
                          dial trusts; a target is checked against the
                          system's roots
  --ca FILE               with --tls or an https URL: trust the CA
                          certificate(s) in the PEM file FILE (instead
                          of the system's roots), for a server of your own
  --json                  print one JSON document instead of text (with
                          npm: npm run -s demo -- --json, as npm prints
                          its banner on stdout)
  -h, --help              show this help

Examples:
  npm run demo
  npm run demo -- --attempt-delay 100
  npm run -s demo -- --json
  npm run demo -- --tls
  npm run demo -- localhost:8080
  npm run demo -- http://localhost:8080/
  npm run demo -- --ca tests/fixtures/tls/ca.pem https://localhost:8443/
  npm run demo -- --repeat localhost:8080
  npm run demo -- --tls --ca tests/fixtures/tls/ca.pem localhost:8443
  deno task demo -- --family 4
  bun run demo -- localhost:8080`;

/** The parsed command line. */
export interface Args {
  target: string | undefined;
  attemptDelay: number | undefined;
  resolutionDelay: number | undefined;
  family: Family | undefined;
  timeout: number | undefined;
  json: boolean;
  repeat: boolean;
  tls: boolean;
  /** `--ca FILE`: the PEM file of the CA a `--tls` target is checked with. */
  ca: string | undefined;
  help: boolean;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[]): Args {
  const args: Args = {
    target: undefined,
    attemptDelay: undefined,
    resolutionDelay: undefined,
    family: undefined,
    timeout: undefined,
    json: false,
    repeat: false,
    tls: false,
    ca: undefined,
    help: false,
  };
  const valued = new Set([
    "--attempt-delay",
    "--resolution-delay",
    "--family",
    "--timeout",
    "--ca",
  ]);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    if (arg === "--") {
      // npm passes its own "--" on when scripts forward arguments.
      continue;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (args.target !== undefined) {
        throw new UsageError(
          `one target only: got "${args.target}" and "${arg}"`,
        );
      }
      args.target = arg;
      continue;
    }
    let value: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (
      arg === "--json" || arg === "--repeat" || arg === "--tls" ||
      arg === "--help" || arg === "-h"
    ) {
      if (value !== undefined) {
        throw new UsageError(`${arg} takes no value (got "${value}")`);
      }
      if (arg === "--json") args.json = true;
      else if (arg === "--repeat") args.repeat = true;
      else if (arg === "--tls") args.tls = true;
      else args.help = true;
      continue;
    }
    if (!valued.has(arg)) throw new UsageError(`unknown option "${arg}"`);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
    }
    switch (arg) {
      case "--attempt-delay":
        args.attemptDelay = milliseconds(arg, value);
        break;
      case "--resolution-delay":
        args.resolutionDelay = milliseconds(arg, value);
        break;
      case "--timeout":
        args.timeout = milliseconds(arg, value);
        if (args.timeout === 0) {
          throw new UsageError(`--timeout must be more than 0 ms`);
        }
        break;
      case "--ca":
        args.ca = value;
        break;
      case "--family":
        if (value !== "4" && value !== "6") {
          throw new UsageError(`--family must be 4 or 6, not "${value}"`);
        }
        args.family = value === "4" ? 4 : 6;
        break;
    }
  }
  if (
    args.ca !== undefined && !args.tls &&
    !/^https:\/\//i.test(args.target ?? "")
  ) {
    throw new UsageError(`--ca applies to --tls only, or to an https:// URL`);
  }
  return args;
}

function milliseconds(flag: string, text: string): number {
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n)) {
    throw new UsageError(
      `${flag} must be a number of milliseconds (>= 0), not "${text}"`,
    );
  }
  return n;
}
