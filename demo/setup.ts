/**
 * What the demo's dials go to: the staged race on loopback (its fixtures,
 * the test CA) or the target given (the system resolver, the system's
 * roots or the CA of `--ca`), with the dial options both dials share.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import type { Network } from "../mod.ts";
import type { RuntimeDialOptions } from "../runtimes/node.ts";
import { TEST_CA } from "../tests/_tls_fixtures.ts";
import type { Adapter } from "./adapter.ts";
import type { Args } from "./args.ts";
import type { Report } from "./report.ts";
import type { DialRun } from "./run.ts";
import { AAAA_DELAY, ALPN, RACE_HOST, type Stage, stageRace } from "./stage.ts";

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The checks main() makes before dialling; a message, or undefined. */
export function argumentError(
  args: Args,
  adapter: Adapter,
): string | undefined {
  if (args.target !== undefined && isUrl(args.target)) {
    try {
      const url = new URL(args.target);
      if (url.hostname === "") throw new Error("no host");
    } catch (error) {
      return `the URL "${args.target}" is not valid: ${messageOf(error)}`;
    }
    if (args.tls) return `--tls is for host:port; an https:// URL uses TLS`;
  } else if (args.target !== undefined) {
    try {
      const [host, port] = adapter.splitHostPort(args.target);
      if (host === "" || port === "") throw new Error("empty host or port");
    } catch (error) {
      return `the target must be host:port (like localhost:8080 or [::1]:8080), not "${args.target}": ${
        messageOf(error)
      }`;
    }
  }
  return undefined;
}

/** Whether the target is an http:// or https:// URL (the URL mode). */
export function isUrl(target: string): boolean {
  return /^https?:\/\//i.test(target);
}

/** `host:port` of an http(s) URL, the port defaulted by its scheme. */
export function hostPortOf(target: string): { hostPort: string; tls: boolean } {
  const url = new URL(target);
  const tls = url.protocol === "https:";
  const port = url.port === "" ? (tls ? "443" : "80") : url.port;
  return { hostPort: `${url.hostname}:${port}`, tls };
}

/** The CA certificates `--ca FILE` names (PEM text), or a message. */
export function readCa(file: string): string | Error {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    return new Error(`--ca: cannot read "${file}": ${messageOf(error)}`);
  }
}

/** What the dials go to: the staged race, or the target given. */
export async function setUp(
  args: Args,
  adapter: Adapter,
  ca: string | undefined,
): Promise<
  Omit<Report, keyof DialRun | "runtime"> & {
    stage?: Stage;
    options: RuntimeDialOptions & { network: Network };
  }
> {
  const network: Network = args.family === 4
    ? "tcp4"
    : args.family === 6
    ? "tcp6"
    : "tcp";
  const url = args.target !== undefined && isUrl(args.target)
    ? hostPortOf(args.target)
    : undefined;
  const common = {
    network,
    tls: args.tls || url?.tls === true,
    attemptDelay: args.attemptDelay ?? adapter.DEFAULT_ATTEMPT_DELAY,
    resolutionDelay: args.resolutionDelay ?? adapter.DEFAULT_RESOLUTION_DELAY,
  };
  const options = {
    network,
    ...(args.attemptDelay === undefined
      ? {}
      : { attemptDelay: args.attemptDelay }),
    ...(args.resolutionDelay === undefined
      ? {}
      : { resolutionDelay: args.resolutionDelay }),
  };
  // The staged race trusts the test CA; a target, the system's roots or
  // the CA of --ca.
  const tls = (caCerts: string | undefined) =>
    !args.tls ? {} : {
      tls: caCerts === undefined
        ? { alpnProtocols: ALPN }
        : { alpnProtocols: ALPN, caCerts: [caCerts] },
    };
  if (args.target !== undefined) {
    return {
      ...common,
      mode: url === undefined ? "target" : "url",
      target: url?.hostPort ?? args.target,
      ...(url === undefined ? {} : { url: args.target }),
      resolver: "system (/etc/hosts, then DNS)",
      options: {
        ...options,
        ...tls(ca),
        resolver: adapter.resolver,
        timeout: args.timeout ?? 10_000,
      },
    };
  }
  const stage = await stageRace(args.tls);
  const ns = stage.nameServer;
  return {
    ...common,
    mode: "race",
    target: `${RACE_HOST}:${stage.port}`,
    resolver: `DNS server ${ns.address}:${ns.port}`,
    setup: [
      `${RACE_HOST}: AAAA ::1 (answered after ${AAAA_DELAY} ms), A 127.0.0.1`,
      `[::1]:${stage.port} never accepts (accept queue full)`,
      args.tls
        ? `127.0.0.1:${stage.port} echoes over TLS (${RACE_HOST}, test CA)`
        : `127.0.0.1:${stage.port} echoes`,
    ],
    stage,
    options: {
      ...options,
      ...tls(TEST_CA),
      // One resolver for both dials: history is kept per resolver.
      resolver: adapter.createResolver({ nameServer: ns }),
      timeout: args.timeout ?? 3_000,
    },
  };
}
