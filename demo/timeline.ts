/**
 * The timeline: one row per event of a dial, each attempt with the notes
 * saying why it went where it did (the ordering rule, what the connection
 * history knew, its source address, NAT64).
 *
 * @module
 */

import type { OrderRule } from "../mod.ts";
import type { DemoEvent, Known, KnownAddress } from "./events.ts";
import {
  bold,
  causeText,
  colorOutcome,
  cyan,
  dim,
  familyName,
  ms,
  recordName,
  red,
  yellow,
} from "./style.ts";
import { WIDTH } from "./waterfall.ts";

/** How each ordering rule reads after "sorted first by". */
const RULE_TEXT: Record<OrderRule | "family", string> = {
  "avoid-unusable": "avoid-unusable (RFC 6724 rule 1)",
  "avoid-failed": "avoid-failed (RFC 8305 §4 history)",
  "matching-scope": "matching-scope (RFC 6724 rule 2)",
  "avoid-deprecated": "avoid-deprecated (RFC 6724 rule 3)",
  "home-address": "home-address (RFC 6724 rule 4)",
  "matching-label": "matching-label (RFC 6724 rule 5)",
  precedence: "precedence (RFC 6724 rule 6)",
  "native-transport": "native-transport (RFC 6724 rule 7)",
  "smaller-scope": "smaller-scope (RFC 6724 rule 8)",
  "lower-rtt": "lower-rtt (RFC 8305 §4 history)",
  "used-before": "used-before (RFC 8305 §4 history)",
  "longest-prefix": "longest-prefix (RFC 6724 rule 9)",
  order: "order (the answer's, RFC 6724 rule 10)",
  family: "family (RFC 8305 §4 interleaving)",
};

function ago(age: number): string {
  if (age < 1000) return `${Math.round(age)} ms ago`;
  return age < 60_000
    ? `${(age / 1000).toFixed(1)} s ago`
    : `${Math.round(age / 60_000)} min ago`;
}

export function bracketed(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

/** "outpaced 0.3 s ago", "connected in 1.2 ms, 0.3 s ago". */
export function knownText(known: Known): string {
  return known.connectTime === undefined || known.outcome !== "connected"
    ? `${known.outcome} ${ago(known.age)}`
    : `${known.outcome} in ${ms(known.connectTime)}, ${ago(known.age)}`;
}

/** The address of an `ip:port` / `[ip%zone]:port` endpoint. */
function addressOf(addr: string): string {
  return addr.startsWith("[")
    ? addr.slice(1, addr.indexOf("]"))
    : addr.slice(0, addr.lastIndexOf(":"));
}

/**
 * Why an attempt went where it did, one note each: the ordering rule (with
 * what history knew of the addresses it went before), its own history, a
 * delay history derived, its source address and NAT64 origin.
 */
function attemptNotes(
  e: Extract<DemoEvent, { type: "connectStart" }>,
  known: KnownAddress[],
): string[] {
  const notes: string[] = [];
  const where = e.attempt === 0 ? "sorted first by" : "sorted next by";
  if (e.sortedBy === "avoid-failed") {
    const self = addressOf(e.addr);
    const failed = known.filter((k) =>
      k.outcome !== "connected" && k.address !== self
    );
    notes.push(
      failed.length === 0
        ? `${where} history: the other family failed`
        : `${where} history: ${
          failed.map((k) => `${bracketed(k.address)} ${knownText(k)}`)
            .join(", ")
        }`,
    );
  } else if (e.sortedBy === "lower-rtt") {
    notes.push(`${where} history: a faster connect (lower-rtt)`);
  } else if (e.sortedBy === "used-before") {
    notes.push(`${where} history: used before (used-before)`);
  } else if (e.sortedBy !== undefined) {
    notes.push(`${where} ${RULE_TEXT[e.sortedBy]}`);
  }
  if (e.history !== undefined) notes.push(`history: ${knownText(e.history)}`);
  if (e.historyDelay !== undefined) {
    notes.push(`next attempt after ${e.historyDelay} ms, from history`);
  }
  if (e.source === null) notes.push("no source address (no route)");
  else if (e.source !== undefined) notes.push(`source ${e.source}`);
  if (e.nat64 !== undefined) notes.push(`NAT64 for ${e.nat64}`);
  return notes;
}

/**
 * Packs notes into lines of at most `width` columns: notes joined by "; "
 * while they fit, a note longer than a line wrapped at its spaces.
 */
function packNotes(notes: string[], width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const note of notes) {
    if (line !== "" && line.length + 2 + note.length <= width) {
      line += `; ${note}`;
      continue;
    }
    if (line !== "") lines.push(line);
    line = "";
    for (const word of note.split(" ")) {
      if (line === "") line = word;
      else if (line.length + 1 + word.length <= width) line += ` ${word}`;
      else {
        lines.push(line);
        line = `  ${word}`;
      }
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

type Kind = "dns" | "connect" | "tls" | "dial";

const paintKind: Record<Kind, (s: string) => string> = {
  dns: cyan,
  connect: (s: string) => s,
  tls: (s: string) => s,
  dial: bold,
};

/** One row per event; under each attempt's start, why it went there. */
export function timelineLines(
  events: DemoEvent[],
  known: KnownAddress[],
): string[] {
  const lines: string[] = [];
  // When each attempt and handshake started, for "after N ms".
  const starts = new Map<string, number>();
  for (const e of events) {
    if (e.type === "connectStart") starts.set(`a${e.attempt}`, e.t);
    if (e.type === "tlsStart") starts.set(`t${e.attempt}`, e.t);
    const [kind, text] = rowOf(e, starts);
    lines.push(
      `  ${dim(ms(e.t).padStart(10))}  ${
        paintKind[kind](kind.padEnd(8))
      } ${text}`,
    );
    if (e.type !== "connectStart") continue;
    // Under the row's text column (23): "· " and the notes.
    for (const line of packNotes(attemptNotes(e, known), WIDTH - 25)) {
      const bullet = line.startsWith("  ") ? "" : "· ";
      lines.push(`${" ".repeat(23)}${dim(bullet + line)}`);
    }
  }
  return lines;
}

function rowOf(e: DemoEvent, starts: Map<string, number>): [Kind, string] {
  switch (e.type) {
    case "dnsStart":
    case "dnsAnswer":
    case "dnsDone":
      return ["dns", dnsText(e)];
    case "connectStart":
      return [
        "connect",
        `#${e.attempt} ${e.addr} starts ${
          dim(`(${causeText(e.cause, e.attempt)})`)
        }`,
      ];
    case "connectDone": {
      const took = e.t - (starts.get(`a${e.attempt}`) ?? e.t);
      const why = e.outcome === "failed" && e.error !== undefined
        ? `: ${e.error}`
        : "";
      return [
        "connect",
        `#${e.attempt} ${e.addr} ${colorOutcome(e.outcome, e.outcome)}${why} ${
          dim(`after ${ms(took)}`)
        }`,
      ];
    }
    case "tlsStart":
      return [
        "tls",
        `#${e.attempt} handshake starts ${dim(`(as ${e.serverName})`)}`,
      ];
    case "tlsDone":
      return ["tls", tlsDoneText(e, starts)];
    case "won":
      return [
        "dial",
        bold(
          `returns #${e.attempt} ${e.addr} (${familyName(e.family)})`,
        ),
      ];
    case "failed":
      return ["dial", red(`failed: ${e.error}`)];
  }
}

function dnsText(
  e: Extract<DemoEvent, { type: "dnsStart" | "dnsAnswer" | "dnsDone" }>,
): string {
  if (e.type === "dnsStart") return `lookup ${e.host} starts (dnsStart)`;
  if (e.type === "dnsDone") {
    return `lookup done (dnsDone): ${e.addrs.length} address${
      e.addrs.length === 1 ? "" : "es"
    }${e.coalesced ? ", shared" : ""}${
      e.error === undefined ? "" : `, ${e.error}`
    }`;
  }
  const answer = e.givenUp === true
    ? yellow("not answered before the dial ended")
    : e.error !== undefined
    ? red(e.error)
    : e.addrs.length === 0
    ? dim("no records")
    : e.addrs.join(", ");
  return `${recordName(e.family).padEnd(4)}  ${answer}`;
}

function tlsDoneText(
  e: Extract<DemoEvent, { type: "tlsDone" }>,
  starts: Map<string, number>,
): string {
  const took = e.t - (starts.get(`t${e.attempt}`) ?? e.t);
  const what = e.outcome === "connected"
    ? [e.tlsVersion, `ALPN ${e.alpnProtocol ?? "none"}`]
      .filter((x) => x !== undefined).join(", ")
    : e.outcome === "failed" && e.error !== undefined
    ? `: ${e.error}`
    : "";
  return `#${e.attempt} ${
    colorOutcome(
      e.outcome,
      e.outcome === "connected" ? "handshake done" : `handshake ${e.outcome}`,
    )
  }${e.outcome === "connected" ? ` (${what})` : what} ${
    dim(`after ${ms(took)}`)
  }`;
}
