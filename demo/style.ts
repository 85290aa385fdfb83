/**
 * The demo's words and colours: ANSI colours when stdout is a terminal
 * (and NO_COLOR is unset), times, family and record names, causes.
 *
 * @module
 */

import process from "node:process";
import type { AttemptCause, Family } from "../mod.ts";
import type { Outcome } from "./events.ts";

const useColor = process.stdout.isTTY === true &&
  (process.env.NO_COLOR ?? "") === "";

function paint(codes: string, text: string): string {
  return useColor ? `\x1b[${codes}m${text}\x1b[0m` : text;
}
export const bold = (s: string) => paint("1", s);
export const dim = (s: string) => paint("2", s);
export const green = (s: string) => paint("32", s);
export const red = (s: string) => paint("31", s);
export const yellow = (s: string) => paint("33", s);
export const cyan = (s: string) => paint("36", s);

export function colorOutcome(outcome: Outcome, text: string): string {
  if (outcome === "connected") return green(text);
  if (outcome === "cancelled") return yellow(text);
  return red(text);
}

export function ms(t: number): string {
  return `${t.toFixed(1)} ms`;
}

export function familyName(family: Family): string {
  return family === 6 ? "IPv6" : "IPv4";
}

export function recordName(family: Family): string {
  return family === 6 ? "AAAA" : "A";
}

export function causeText(cause: AttemptCause, attempt: number): string {
  switch (cause) {
    case "first":
      return "first attempt";
    case "delay":
      return "attempt delay ran out";
    case "failure":
      return `#${attempt - 1} failed`;
    case "answer":
      return "new addresses arrived";
  }
}
