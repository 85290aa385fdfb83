/**
 * The demo's second trace, beside the core's recorder: it notes only what
 * `recordTimings()` does not keep (each answer's addresses, why each
 * attempt went where it did, the TLS server name) — never a time — and
 * knows when every attempt has reported its end.
 *
 * @module
 */

import type { Trace } from "../mod.ts";
import { type DialNotes, knownOf } from "./events.ts";

/** Notes one dial's extras; {@linkcode NoteTaker.settled} waits for its end. */
export class NoteTaker {
  readonly notes: DialNotes = {
    answers: new Map(),
    starts: new Map(),
    serverNames: new Map(),
  };
  #open = 0;
  #idle: (() => void) | undefined;

  #opened(): void {
    this.#open++;
  }

  #closed(): void {
    this.#open--;
    if (this.#open === 0) this.#idle?.();
  }

  /**
   * Waits until every attempt and handshake has reported its end (the
   * loser's `connectDone` arrives just after the dial returns), at most
   * `ms`.
   */
  settled(ms: number): Promise<void> {
    if (this.#open <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#idle = done;
    });
  }

  /** The hooks. */
  trace(): Trace {
    const notes = this.notes;
    return {
      dnsAnswer: ({ family, addrs }) => {
        if (family === "service") return; // HEv3: no address family's
        notes.answers.set(family, addrs.map((a) => a.address));
      },
      dnsDone: ({ addrs }) => {
        notes.done = { addrs: addrs.map((a) => a.address) };
      },
      connectStart: (info) => {
        this.#opened();
        notes.starts.set(info.attempt, {
          ...(info.sortedBy === undefined ? {} : { sortedBy: info.sortedBy }),
          ...(info.history === undefined
            ? {}
            : { history: knownOf(info.history, performance.now()) }),
          ...(info.historyDelay === undefined
            ? {}
            : { historyDelay: info.historyDelay }),
          ...(info.source === undefined
            ? {}
            : { source: info.source?.address ?? null }),
          ...(info.nat64 === undefined ? {} : { nat64: info.nat64 }),
        });
      },
      connectDone: () => this.#closed(),
      tlsHandshakeStart: ({ attempt, serverName }) => {
        this.#opened();
        notes.serverNames.set(attempt, serverName);
      },
      tlsHandshakeDone: () => this.#closed(),
    };
  }
}
