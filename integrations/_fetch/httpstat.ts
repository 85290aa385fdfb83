/**
 * `formatHttpstat`: a request's {@linkcode RequestTimings} drawn as
 * httpstat draws curl's (the five phases side by side, the cumulative
 * times under them), plus one line per Happy Eyeballs attempt of the
 * final dial.
 *
 * @module
 */

import type { RequestTimings } from "./timings.ts";

interface Phase {
  name: string;
  /** The phase's length, ms; undefined: it did not happen. */
  ms: number | undefined;
  /** The cumulative time at its end, and curl's name for it. */
  mark: string;
  at: number | undefined;
}

function span(from: number | undefined, to: number | undefined) {
  return from === undefined || to === undefined ? undefined : to - from;
}

function phasesOf(t: RequestTimings): Phase[] {
  const c = t.curl;
  const start = c.redirect;
  const dns = c.namelookup;
  const tcp = c.connect;
  const tls = c.appconnect;
  return [
    {
      name: "DNS Lookup",
      ms: span(start, dns),
      mark: "namelookup",
      at: dns,
    },
    {
      name: "TCP Connection",
      ms: span(dns ?? (tcp === undefined ? undefined : start), tcp),
      mark: "connect",
      at: tcp,
    },
    {
      name: "TLS Handshake",
      ms: span(tcp, tls),
      mark: "appconnect",
      at: tls,
    },
    {
      name: "Server Processing",
      ms: span(c.pretransfer, c.starttransfer),
      mark: "starttransfer",
      at: c.starttransfer,
    },
    {
      name: "Content Transfer",
      ms: span(c.starttransfer, c.total),
      mark: "total",
      at: c.total,
    },
  ];
}

function ms(value: number | undefined): string {
  return value === undefined ? "—" : `${Math.round(value)}ms`;
}

function center(text: string, width: number): string {
  const left = Math.floor((width - text.length) / 2);
  return " ".repeat(Math.max(0, left)) + text +
    " ".repeat(Math.max(0, width - text.length - left));
}

/**
 * Formats a request's timings the way httpstat does: a header with the
 * phases that happened (DNS lookup, TCP connection, TLS handshake, server
 * processing, content transfer; a reused connection has none of the
 * first three), a bar with each phase's length, then the cumulative time
 * at the end of each (curl's names). When the request dialled, one line
 * per connection attempt follows: endpoint, start, end and outcome, the
 * winner marked `*` — the Happy Eyeballs race inside "TCP Connection".
 * Times are rounded to the ms; lines end with `\n`.
 *
 * @param t The timings, from `recordRequestTimings().timings()`.
 * @returns The text.
 *
 * @example Printing a breakdown
 * ```ts
 * import { formatHttpstat } from "@nettrace/nettrace/fetch";
 *
 * console.log(formatHttpstat({
 *   method: "GET",
 *   url: "http://app.test/",
 *   attempts: 1,
 *   reused: false,
 *   numConnects: 1,
 *   curl: {
 *     namelookup: 2,
 *     connect: 3,
 *     pretransfer: 3,
 *     starttransfer: 10,
 *     total: 11,
 *     redirect: 0,
 *   },
 * }));
 * ```
 */
export function formatHttpstat(t: RequestTimings): string {
  const phases = phasesOf(t).filter((p) => p.ms !== undefined);
  const widths = phases.map((p) => Math.max(p.name.length + 2, 12));
  const lines = [
    `${t.method ?? "?"} ${t.url ?? "?"}` +
    (t.reused ? " (reused connection)" : ""),
    "",
    (" " + phases.map((p, i) => center(p.name, widths[i])).join(" "))
      .trimEnd(),
    "[" + phases.map((p, i) => center(ms(p.ms), widths[i])).join("|") + "]",
  ];
  let indent = 0;
  for (let i = 0; i < phases.length; i++) {
    indent += widths[i] + 1;
    const label = `${phases[i].mark}:${ms(phases[i].at)}`;
    // Ends under the phase's closing `|` (or `]`).
    lines.push(" ".repeat(Math.max(0, indent + 1 - label.length)) + label);
  }
  const dial = t.dial;
  if (dial !== undefined && dial.attempts.length > 0) {
    const offset = t.dialStart ?? 0;
    lines.push("", "connection attempts (ms since the request started):");
    for (const a of dial.attempts) {
      const end = a.end === undefined ? "…" : ms(a.end + offset);
      const why = a.error === undefined ? "" : `: ${a.error}`;
      lines.push(
        `  ${a.won ? "*" : " "} ${a.addr}  ${ms(a.start + offset)} → ${end}` +
          `  ${a.outcome}${why}`,
      );
    }
  }
  return lines.join("\n") + "\n";
}
