/**
 * One request of the demo in URL mode (`npm run demo -- http://host:port/`):
 * it fetches the URL with `createFetch` (nettrace dials the connection),
 * records the request's timings (`recordRequestTimings()`) and the demo's
 * {@linkcode NoteTaker} notes on its hooks, reads the body, and gives the
 * dial's {@linkcode DialRun} (the timeline of the request's own dial) and
 * the request's timings for the httpstat breakdown.
 *
 * @module
 */

import {
  createFetch,
  recordRequestTimings,
  type RequestTimings,
} from "../integrations/fetch.ts";
import type { Network } from "../mod.ts";
import type { RuntimeDialOptions } from "../runtimes/node.ts";
import { type DialEnd, eventsOf } from "./events.ts";
import { NoteTaker } from "./notes.ts";
import type { DialRun } from "./run.ts";

/** What the request got and how long each part took. */
export interface HttpRun {
  method: string;
  url: string;
  status?: number;
  statusText?: string;
  /** The body's length, bytes. */
  bytes?: number;
  error?: string;
  /** The request's timings (curl's names), `recordRequestTimings()`. */
  timings: RequestTimings;
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return error.message + cause;
}

/**
 * Fetches `url` once with the dial options of the demo, trusting the CA
 * of `--ca` (PEM text) instead of the system's roots when given.
 */
export async function fetchOnce(
  url: string,
  options: RuntimeDialOptions & { network: Network },
  ca: string | undefined,
): Promise<{ run: DialRun; http: HttpRun }> {
  const recorder = recordRequestTimings();
  const taker = new NoteTaker();
  const fetch = createFetch({
    network: options.network,
    resolver: options.resolver,
    ...(options.attemptDelay === undefined
      ? {}
      : { attemptDelay: options.attemptDelay }),
    ...(options.resolutionDelay === undefined
      ? {}
      : { resolutionDelay: options.resolutionDelay }),
    ...(options.timeout === undefined ? {} : { timeout: options.timeout }),
    ...(ca === undefined ? {} : { caCerts: [ca] }),
    trace: taker.trace(),
  });
  const http: HttpRun = { method: "GET", url, timings: recorder.timings() };
  let error: string | undefined;
  try {
    const response = await fetch(url, {
      trace: recorder.trace,
      redirect: "manual",
    });
    http.status = response.status;
    http.statusText = response.statusText;
    http.bytes = (await response.arrayBuffer()).byteLength;
    recorder.done();
  } catch (failure) {
    error = http.error = messageOf(failure);
  } finally {
    await fetch.close();
  }
  await taker.settled(1_000);
  http.timings = recorder.timings();
  const dial = http.timings.dial;
  const run: DialRun = {
    history: [],
    events: [],
    total: dial?.total ?? 0,
    ...(error === undefined ? {} : { error }),
  };
  if (dial !== undefined) {
    const won = dial.attempts.find((a) => a.won);
    if (won !== undefined && won.end !== undefined) {
      const { attempt, addr, family } = won;
      run.winner = { attempt, addr, family, at: won.end };
      run.remoteAddr = addr;
    }
    const end: DialEnd = won !== undefined
      ? { type: "won", t: run.total }
      : { type: "failed", t: run.total, error: error ?? "", errors: [] };
    run.events = eventsOf(dial, taker.notes, end);
    run.timings = dial;
  }
  return { run, http };
}
