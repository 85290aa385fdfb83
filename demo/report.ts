/**
 * The demo's text output: the header, each dial's timeline, waterfall,
 * breakdown (`formatTimings()`) and outcome, the echo, the second dial.
 *
 * @module
 */

import process from "node:process";
import { formatHttpstat } from "../integrations/fetch.ts";
import { formatTimings, type Network } from "../mod.ts";
import type { HttpRun } from "./fetch_run.ts";
import type { DialRun } from "./run.ts";
import { bold, dim, familyName, green, ms, red } from "./style.ts";
import { bracketed, knownText, timelineLines } from "./timeline.ts";
import { waterfall } from "./waterfall.ts";

/** Everything one run found out: the first dial's fields at the top. */
export interface Report extends DialRun {
  runtime: string;
  mode: "race" | "target" | "url";
  /** host:port dialled (of the URL, in the URL mode). */
  target: string;
  /** The URL fetched (the URL mode). */
  url?: string;
  network: Network;
  /** Dialled over TLS (`--tls`). */
  tls: boolean;
  attemptDelay: number;
  resolutionDelay: number;
  resolver: string;
  setup?: string[];
  echo?: { sent: string; received: string; ms: number };
  /** The second dial of the same name (the staged race, or --repeat). */
  repeat?: DialRun;
  /** The request of the URL mode: its status and timings. */
  http?: HttpRun;
}

/** The URL mode's status line and httpstat breakdown (formatHttpstat). */
function httpLines(http: HttpRun): string[] {
  const out = [
    bold("httpstat") + dim("  (ms since the request started)"),
    ...formatHttpstat(http.timings).trimEnd().split("\n").map((l) =>
      l === "" ? "" : `  ${l}`
    ),
    "",
  ];
  if (http.status !== undefined) {
    const ok = http.status < 400;
    const line = `HTTP ${http.status} ${http.statusText ?? ""}`.trimEnd();
    out.push(
      `${bold("status")}    ${ok ? green(line) : red(line)}, ${
        http.bytes ?? 0
      } bytes`,
    );
  }
  return out;
}

/**
 * The curl-style breakdown of one dial (formatTimings), under a heading,
 * and a blank line.
 */
function breakdownLines(run: DialRun): string[] {
  if (run.timings === undefined) return [];
  const text = formatTimings(run.timings).trimEnd().split("\n");
  return [
    bold("breakdown") + dim("  (curl --write-out style, ms since the dial)"),
    ...text.map((line) => `  ${line}`),
    "",
  ];
}

/** The winner, total, connection and error lines of one dial. */
function outcomeLines(run: DialRun, totalNote = ""): string[] {
  const out: string[] = [];
  if (run.winner !== undefined) {
    const w = run.winner;
    out.push(
      `${bold("winner")}    #${w.attempt} ${w.addr} (${familyName(w.family)}) ${
        green("connected")
      } at ${ms(w.at)}`,
    );
  } else {
    out.push(`${bold("winner")}    ${red("none")}`);
  }
  // The winner's handshake (or, when the dial failed in TLS, the last one).
  const handshakes = run.events.filter((e) => e.type === "tlsDone");
  const tls = handshakes.find((e) => e.attempt === run.winner?.attempt) ??
    handshakes.at(-1);
  if (tls !== undefined) {
    out.push(
      `${bold("tls")}       ${
        tls.outcome === "connected"
          ? `${
            [tls.tlsVersion, `ALPN ${tls.alpnProtocol ?? "none"}`]
              .filter((x) => x !== undefined).join(", ")
          }, ${green("handshake done")} at ${ms(tls.t)}`
          : red(`handshake ${tls.outcome} at ${ms(tls.t)}`)
      }`,
    );
  }
  out.push(`${bold("total")}     ${ms(run.total)}${dim(totalNote)}`);
  if (run.localAddr !== undefined) {
    out.push(`${bold("conn")}      ${run.localAddr} → ${run.remoteAddr}`);
  }
  return out;
}

export function printText(report: Report): void {
  const out: string[] = [];
  out.push(
    `${bold("nettrace demo")} ${dim(`(${report.runtime})`)}: ${
      report.url === undefined ? "" : `GET ${bold(report.url)}, `
    }dial ${bold(report.target)} over ${report.network}${
      report.tls ? " + TLS" : ""
    }`,
  );
  out.push(
    dim(
      `  attempt delay ${report.attemptDelay} ms, resolution delay ${report.resolutionDelay} ms`,
    ),
  );
  out.push(dim(`  resolver: ${report.resolver}`));
  for (const line of report.setup ?? []) out.push(dim(`  ${line}`));
  out.push("");
  out.push(bold("timeline") + dim("  (ms since the dial started)"));
  out.push(...timelineLines(report.events, report.history));
  out.push("");
  const fall = waterfall(report.events, report.total);
  if (fall.length > 0) {
    out.push(bold("waterfall"));
    out.push(...fall);
    out.push("");
  }
  out.push(...breakdownLines(report));
  if (report.http !== undefined) out.push(...httpLines(report.http));
  out.push(
    ...outcomeLines(report, report.http === undefined ? "" : " (the dial)"),
  );
  if (report.echo !== undefined) {
    const ok = report.echo.received === report.echo.sent;
    out.push(
      `${bold("echo")}      wrote ${JSON.stringify(report.echo.sent)}, ${
        ok
          ? `read it back in ${ms(report.echo.ms)} ${green("✓")}`
          : red(`read ${JSON.stringify(report.echo.received)} back ✗`)
      }`,
    );
  }
  if (report.error !== undefined) {
    out.push(`${bold("error")}     ${red(report.error)}`);
  }
  const again = report.repeat;
  if (again !== undefined) {
    out.push("");
    out.push(
      `${
        bold("again")
      }     ${report.target}, through the same resolver and dialer`,
    );
    if (again.history.length === 0) {
      out.push(`${bold("history")}   ${dim("nothing known of this host")}`);
    }
    again.history.forEach((k, i) => {
      out.push(
        `${i === 0 ? bold("history") : "       "}   ${bracketed(k.address)} ${
          knownText(k)
        }`,
      );
    });
    out.push("");
    out.push(bold("timeline") + dim("  (ms since the second dial started)"));
    out.push(...timelineLines(again.events, again.history));
    out.push("");
    out.push(...breakdownLines(again));
    out.push(...outcomeLines(again, ` (the first dial: ${ms(report.total)})`));
    if (again.error !== undefined) {
      out.push(`${bold("error")}     ${red(again.error)}`);
    }
  }
  process.stdout.write(out.join("\n") + "\n");
}
