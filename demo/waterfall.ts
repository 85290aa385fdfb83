/**
 * The waterfall: one bar per DNS family, attempt and handshake on an
 * 80-column time axis.
 *
 * @module
 */

import type { DemoEvent } from "./events.ts";
import {
  colorOutcome,
  cyan,
  dim,
  ms,
  recordName,
  red,
  yellow,
} from "./style.ts";

/** A bar on the waterfall: a DNS family, an attempt or a handshake. */
interface Span {
  label: string;
  start: number;
  end: number;
  char: string;
  color: (s: string) => string;
  note: string;
}

function spansOf(events: DemoEvent[], total: number): Span[] {
  const spans: Span[] = [];
  // Both families are asked as the lookup starts.
  let lookupStart = 0;
  const attempts = new Map<
    number,
    Extract<DemoEvent, { type: "connectStart" }>
  >();
  const handshakes = new Map<number, number>();
  const ended = new Set<string>();
  for (const e of events) {
    if (e.type === "dnsStart") lookupStart = e.t;
    if (e.type === "dnsAnswer") {
      const cancelled = e.givenUp === true;
      spans.push({
        label: `DNS ${recordName(e.family)}`,
        start: lookupStart,
        end: e.t,
        char: "▒",
        color: cancelled ? yellow : e.error === undefined ? cyan : red,
        note: cancelled
          ? "given up"
          : e.error === undefined
          ? `${e.addrs.length} addr${e.addrs.length === 1 ? "" : "s"}`
          : "failed",
      });
      ended.add(`q${e.family}`);
    }
    if (e.type === "connectStart") attempts.set(e.attempt, e);
    if (e.type === "tlsStart") handshakes.set(e.attempt, e.t);
    if (e.type === "tlsDone") {
      spans.push({
        label: `#${e.attempt} TLS`,
        start: handshakes.get(e.attempt) ?? 0,
        end: e.t,
        char: e.outcome === "connected" ? "▓" : "░",
        color: (s) => colorOutcome(e.outcome, s),
        note: e.outcome === "connected"
          ? `${e.alpnProtocol ?? "no ALPN"} ✓`
          : e.outcome,
      });
      ended.add(`t${e.attempt}`);
    }
    if (e.type === "connectDone") {
      const start = attempts.get(e.attempt)?.t ?? 0;
      spans.push({
        label: `#${e.attempt} ${e.addr}`,
        start,
        end: e.t,
        char: e.outcome === "connected" ? "█" : "░",
        color: (s) => colorOutcome(e.outcome, s),
        note: e.outcome === "connected" ? "connected ✓" : e.outcome,
      });
      ended.add(`a${e.attempt}`);
    }
  }
  // Whatever never reported its end runs to the end of the axis.
  for (const [attempt, e] of attempts) {
    if (!ended.has(`a${attempt}`)) {
      spans.push({
        label: `#${attempt} ${e.addr}`,
        start: e.t,
        end: total,
        char: "░",
        color: dim,
        note: "pending",
      });
    }
  }
  for (const [attempt, t] of handshakes) {
    if (!ended.has(`t${attempt}`)) {
      spans.push({
        label: `#${attempt} TLS`,
        start: t,
        end: total,
        char: "░",
        color: dim,
        note: "pending",
      });
    }
  }
  // DNS rows first (AAAA before A), then attempts in order, each one's
  // handshake under it.
  const rank = (s: Span) =>
    s.label === "DNS AAAA" ? -2 : s.label === "DNS A" ? -1 : Number(
      s.label.slice(1, s.label.indexOf(" ")),
    ) + (s.label.endsWith(" TLS") ? 0.5 : 0);
  return spans.sort((a, b) => rank(a) - rank(b));
}

export const WIDTH = 80;

export function waterfall(events: DemoEvent[], total: number): string[] {
  const end = Math.max(
    total,
    ...events.map((e) => e.t),
    1,
  );
  const spans = spansOf(events, end);
  if (spans.length === 0) return [];
  const labelWidth = Math.min(
    26,
    Math.max(...spans.map((s) => s.label.length)),
  );
  const noteWidth = Math.max(...spans.map((s) => s.note.length));
  // "  label │bar│ note" within WIDTH columns.
  const barWidth = WIDTH - 2 - labelWidth - 2 - 2 - noteWidth;
  const scale = end / barWidth;
  const column = (t: number) => Math.min(barWidth - 1, Math.floor(t / scale));
  const lines: string[] = [];
  for (const span of spans) {
    const from = column(span.start);
    const to = Math.max(from, column(span.end));
    const label = span.label.length > labelWidth
      ? span.label.slice(0, labelWidth - 1) + "…"
      : span.label.padEnd(labelWidth);
    const bar = " ".repeat(from) +
      span.color(span.char.repeat(to - from + 1)) +
      " ".repeat(barWidth - to - 1);
    lines.push(`  ${label} │${bar}│ ${span.color(span.note)}`);
  }
  const left = "0";
  const right = ms(end);
  const axis = left +
    " ".repeat(Math.max(1, barWidth - left.length - right.length)) +
    right;
  lines.push(`  ${" ".repeat(labelWidth)}  ${dim(axis)}`);
  lines.push(
    `  ${" ".repeat(labelWidth)}  ${
      dim(`one column ≈ ${scale.toFixed(1)} ms`)
    }`,
  );
  return lines;
}
