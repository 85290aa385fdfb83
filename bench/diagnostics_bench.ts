/**
 * `deno bench bench/diagnostics_bench.ts`: what the diagnostics channels
 * (runtimes/_diagnostics.ts) cost a dial — nothing measurable when nobody
 * subscribes, a little when one subscriber listens to every channel.
 *
 * Two groups:
 * - "diagnostics: dial of an IP literal on loopback": the core `dial()`
 *   with Deno's dialer and no trace (the baseline), the same with
 *   `diagnosticTrace()` as its trace and no subscriber (the check the
 *   adapters make on every dial), and with one no-op subscriber on all nine
 *   channels (nine messages per dial: dial, connect, dial done). The
 *   adapter's own `dial()` is listed too: once the adapters make the check
 *   themselves it is the "no subscriber" case as users meet it.
 * - "diagnostics: diagnosticTrace() alone": the check by itself, without a
 *   dial, against an empty function.
 *
 * The listener runs in this process, on 127.0.0.1, and closes each
 * connection when the client closes its side (as in dial_bench.ts).
 * Subscriptions are made and removed outside the timed part of each
 * iteration (`b.start()`/`b.end()`), so the other cases run with none.
 *
 * @module
 */

import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { dial as adapterDial, dialer, resolver } from "../runtimes/deno.ts";
import {
  DIAGNOSTICS_CHANNELS,
  diagnosticTrace,
} from "../runtimes/_diagnostics.ts";
import { dial } from "../mod.ts";

/** A listener on 127.0.0.1 that accepts everything. */
function listen(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.unref();
  (async () => {
    const buffer = new Uint8Array(16);
    for await (const conn of listener) {
      // Read until the client's FIN, then close: the client closes first.
      conn.read(buffer).catch(() => null).finally(() => {
        try {
          conn.close();
        } catch {
          // already closed
        }
      });
    }
  })();
  return listener.addr.port;
}

const port = listen();
const literal = `127.0.0.1:${port}`;
const CHANNELS = Object.values(DIAGNOSTICS_CHANNELS);

let messages = 0;
function subscriber(): void {
  messages++;
}

function subscribeAll(): void {
  for (const name of CHANNELS) subscribe(name, subscriber);
}

function unsubscribeAll(): void {
  for (const name of CHANNELS) unsubscribe(name, subscriber);
}

const DIAL = "diagnostics: dial of an IP literal on loopback";
const CHECK = "diagnostics: diagnosticTrace() alone";

Deno.bench({
  name: "core dial, no diagnostics",
  group: DIAL,
  baseline: true,
  async fn() {
    (await dial(literal, { resolver, dialer })).close();
  },
});

Deno.bench({
  name: "core dial + diagnosticTrace(), no subscriber",
  group: DIAL,
  async fn() {
    const trace = diagnosticTrace("tcp", literal);
    (await dial(literal, { resolver, dialer, trace })).close();
  },
});

Deno.bench({
  name: "core dial + diagnosticTrace(), one subscriber on every channel",
  group: DIAL,
  async fn(b) {
    subscribeAll();
    try {
      b.start();
      const trace = diagnosticTrace("tcp", literal);
      (await dial(literal, { resolver, dialer, trace })).close();
      b.end();
    } finally {
      unsubscribeAll();
    }
  },
});

Deno.bench({
  name: "adapter dial (Deno), no subscriber",
  group: DIAL,
  async fn() {
    (await adapterDial(literal)).close();
  },
});

function empty(): undefined {
  return undefined;
}

Deno.bench({
  name: "empty function",
  group: CHECK,
  baseline: true,
  fn() {
    empty();
  },
});

Deno.bench({
  name: "diagnosticTrace(), no subscriber",
  group: CHECK,
  fn() {
    diagnosticTrace("tcp", literal);
  },
});

Deno.bench({
  name: "diagnosticTrace(), one subscriber on every channel",
  group: CHECK,
  fn(b) {
    subscribeAll();
    b.start();
    diagnosticTrace("tcp", literal);
    b.end();
    unsubscribeAll();
  },
});
