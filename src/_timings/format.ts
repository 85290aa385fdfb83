/**
 * Formatting: a {@linkcode DialTimings} as the text block that
 * `formatTimings()` in `src/timings.ts` returns — the headline, curl's four
 * phase rows with their notes, and the attempts table.
 *
 * @module
 */

import type { DialTimings, FamilyLookupTiming } from "./types.ts";

const DASH = "—";

function fmt(ms: number | undefined): string {
  return ms === undefined ? DASH : ms.toFixed(1);
}

function fmtMs(ms: number | undefined): string {
  return ms === undefined ? DASH : `${ms.toFixed(1)} ms`;
}

/** The text of a breakdown; lines end with `\n`. */
export function format(t: DialTimings): string {
  const lines = [headline(t), ...phaseLines(t), ...attemptLines(t)];
  return lines.join("\n") + "\n";
}

/** How the dial ended: "dial a (tcp): connected to … (attempt #1)". */
function headline(t: DialTimings): string {
  const what = `dial ${t.address ?? "?"}${
    t.network === undefined ? "" : ` (${t.network})`
  }`;
  if (t.outcome === "connected") {
    const winner = t.attempts.find((a) => a.won);
    return `${what}: connected to ${t.addr ?? "?"}${
      winner === undefined ? "" : ` (attempt #${winner.attempt})`
    }`;
  }
  if (t.outcome === "failed") {
    return `${what}: failed: ${t.error ?? "unknown error"}`;
  }
  return `${what}: pending`;
}

/** curl's four cumulative times, aligned, each with what its phase found. */
function phaseLines(t: DialTimings): string[] {
  const connectNote = t.connect === undefined
    ? ""
    : `${t.attempts.length} attempt${t.attempts.length === 1 ? "" : "s"}`;
  const rows: [string, number | undefined, string][] = [
    ["namelookup", t.curl.namelookup, lookupNote(t)],
    ["connect", t.curl.connect, connectNote],
    ["appconnect", t.curl.appconnect, tlsNote(t)],
    ["total", t.curl.total, ""],
  ];
  const valueWidth = Math.max(...rows.map(([, v]) => fmtMs(v).length));
  return rows.map(([label, value, note]) =>
    `  ${(label + ":").padEnd(12)} ${fmtMs(value).padStart(valueWidth)}${
      note === "" ? "" : `   ${note}`
    }`
  );
}

function familyNote(
  name: string,
  answer: FamilyLookupTiming | undefined,
): string | undefined {
  if (answer === undefined) return undefined;
  if (answer.error !== undefined) {
    return `${name} failed at ${fmtMs(answer.end)}`;
  }
  return `${name} ${answer.count} at ${fmtMs(answer.end)}`;
}

/** When each family answered, how the lookup ended, shared, cached. */
function lookupNote(t: DialTimings): string {
  const lookup = t.lookup;
  if (lookup === undefined) {
    return t.total !== undefined || t.connect !== undefined
      ? "no lookup (IP literal)"
      : "";
  }
  const notes = [
    familyNote("AAAA", lookup.ipv6),
    familyNote("A", lookup.ipv4),
  ].filter((n) => n !== undefined);
  // Fewer answers than families asked for: given up as the dial ended.
  const asked = t.network === "tcp4" || t.network === "tcp6" ? 1 : 2;
  if (lookup.end !== undefined && notes.length < asked) {
    notes.push(
      `${lookup.error === undefined ? "ended" : "failed"} at ${
        fmtMs(lookup.end)
      }`,
    );
  }
  if (lookup.coalesced) notes.push("shared");
  if (lookup.cached) notes.push("cached");
  return notes.join(", ");
}

/** The handshake's version and ALPN protocol, or how it failed. */
function tlsNote(t: DialTimings): string {
  const tls = t.tls;
  if (tls === undefined) return t.outcome !== "pending" ? "no TLS" : "";
  if (tls.error !== undefined) {
    const own = t.attempts.find((a) => a.attempt === tls.attempt)?.tls;
    return `handshake ${own?.outcome === "cancelled" ? "cancelled" : "failed"}`;
  }
  if (tls.end === undefined) return "";
  return [tls.tlsVersion, `ALPN ${tls.alpnProtocol ?? "none"}`]
    .filter((n) => n !== undefined).join(", ");
}

/** One row per attempt (`*`: the winner), a failure's error under it. */
function attemptLines(t: DialTimings): string[] {
  if (t.attempts.length === 0) return [];
  const withTls = t.attempts.some((a) => a.tls !== undefined);
  const header = ["#", "address", "cause", "start", "tcp end", "tcp"];
  if (withTls) header.push("tls end", "tls");
  const table: string[][] = [header];
  const errors: (string | undefined)[] = [undefined];
  for (const a of t.attempts) {
    const row = [
      `${a.won ? "*" : " "}${a.attempt}`,
      a.addr,
      a.cause,
      fmt(a.start),
      fmt(a.end),
      a.outcome,
    ];
    if (withTls) row.push(fmt(a.tls?.end), a.tls?.outcome ?? DASH);
    table.push(row);
    errors.push(
      a.outcome === "failed"
        ? a.error
        : a.tls?.outcome === "failed"
        ? a.tls.error
        : undefined,
    );
  }
  const numeric = new Set([3, 4, 6]);
  const widths = header.map((_, i) =>
    Math.max(...table.map((row) => row[i]!.length))
  );
  // Under the address column.
  const indent = " ".repeat(3 + widths[0]! + 2);
  const lines = ["  attempts (ms):"];
  table.forEach((row, r) => {
    const cells = row.map((cell, i) =>
      numeric.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)
    );
    lines.push(`   ${cells.join("  ")}`.trimEnd());
    const error = errors[r];
    if (error !== undefined) lines.push(`${indent}${error}`);
  });
  return lines;
}
