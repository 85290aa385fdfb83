// recordRequestTimings(): curl's request times from an HTTPTrace, on a
// virtual clock with exact times, and once through createFetch for real.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  createFetch,
  formatHttpstat,
  formatRequestTimings,
  type HTTPTrace,
  recordRequestTimings,
  type RequestTimings,
} from "../integrations/fetch.ts";
import { VirtualClock } from "./_virtual_clock.ts";
import { startHttpServer } from "./_http_fixtures.ts";

type Step = [at: number, hook: keyof HTTPTrace, info: unknown];

async function replay(clock: VirtualClock, trace: HTTPTrace, steps: Step[]) {
  for (const [at, hook, info] of steps) {
    await clock.advanceTo(at);
    (trace[hook] as ((i: unknown) => void) | undefined)?.(info);
  }
}

const conn = {
  localAddr: { hostname: "127.0.0.1", port: 50000 },
  remoteAddr: { hostname: "127.0.0.1", port: 80 },
  alpnProtocol: null,
};
const ep = { network: "tcp", addr: "127.0.0.1:80", family: 4, attempt: 0 };

/** A fresh connection to app.test dialled from t=1 to t=5. */
function freshAttempt(attempt: number, from: number): Step[] {
  const url = `http://app.test/${attempt}`;
  return [
    [from, "getConn", { attempt, hostPort: "app.test:80", method: "GET", url }],
    [from + 1, "dialStart", { network: "tcp", address: "app.test:80" }],
    [from + 1, "dnsStart", { host: "app.test" }],
    [from + 3, "dnsAnswer", {
      host: "app.test",
      family: 4,
      addrs: [{ address: "127.0.0.1", family: 4 }],
      coalesced: false,
      cached: false,
    }],
    [from + 3, "dnsDone", {
      host: "app.test",
      addrs: [{ address: "127.0.0.1", family: 4 }],
      coalesced: false,
      cached: false,
    }],
    [from + 3, "connectStart", { ...ep, cause: "first" }],
    [from + 5, "connectDone", ep],
    [from + 5, "dialDone", {
      network: "tcp",
      address: "app.test:80",
      addr: "127.0.0.1:80",
      family: 4,
      attempt: 0,
    }],
    [from + 5, "gotConn", {
      attempt,
      reused: false,
      wasIdle: false,
      idleTime: 0,
      ...conn,
    }],
  ];
}

test("recordRequestTimings() gives curl's times of a fresh connection, from getConn", async () => {
  const clock = new VirtualClock();
  const recorder = recordRequestTimings({ clock });
  await replay(clock, recorder.trace, [
    ...freshAttempt(0, 0),
    [7, "wroteHeaders", { attempt: 0 }],
    [7, "wroteRequest", { attempt: 0 }],
    [9, "gotFirstResponseByte", { attempt: 0 }],
  ]);
  await clock.advanceTo(11);
  recorder.done();
  const t = recorder.timings();
  assert.deepEqual(t.curl, {
    redirect: 0,
    namelookup: 3,
    connect: 5,
    appconnect: undefined,
    pretransfer: 5,
    starttransfer: 9,
    total: 11,
  });
  assert.equal(t.attempts, 1);
  assert.equal(t.reused, false);
  assert.equal(t.numConnects, 1);
  assert.equal(t.dialStart, 1);
  assert.equal(t.dial?.outcome, "connected");
  assert.equal(t.url, "http://app.test/0");
});

test("recordRequestTimings() counts redirect hops into time_redirect and keeps the final attempt's reuse", async () => {
  const clock = new VirtualClock();
  const recorder = recordRequestTimings({ clock });
  await replay(clock, recorder.trace, [
    ...freshAttempt(0, 0),
    [9, "gotFirstResponseByte", { attempt: 0 }],
    [10, "getConn", {
      attempt: 1,
      hostPort: "app.test:80",
      method: "GET",
      url: "http://app.test/to",
    }],
    [10.5, "gotConn", {
      attempt: 1,
      reused: true,
      wasIdle: true,
      idleTime: 1,
      ...conn,
    }],
    [12, "gotFirstResponseByte", { attempt: 1 }],
  ]);
  await clock.advanceTo(15);
  recorder.done();
  const t = recorder.timings();
  assert.deepEqual(t.curl, {
    redirect: 10,
    pretransfer: 10.5,
    starttransfer: 12,
    total: 15,
  });
  assert.equal(t.attempts, 2);
  assert.equal(t.reused, true);
  assert.equal(t.numConnects, 1);
  assert.equal(t.dial, undefined);
  assert.equal(t.url, "http://app.test/to");
  const text = formatRequestTimings(t);
  assert.match(text, /^GET http:\/\/app\.test\/to: 2 attempt\(s\), reused/);
  assert.match(text, /redirect +10\.0 ms/);
  assert.match(text, /namelookup +—/);
});

test("recordRequestTimings() through createFetch: the times are in curl's order", async () => {
  const server = await startHttpServer();
  const fetch = createFetch();
  try {
    const recorder = recordRequestTimings();
    const response = await fetch(`http://127.0.0.1:${server.port}/`, {
      trace: recorder.trace,
    });
    await response.text();
    recorder.done();
    const { curl, numConnects, reused } = recorder.timings();
    assert.equal(numConnects, 1);
    assert.equal(reused, false);
    assert.equal(curl.namelookup, undefined); // an IP literal
    const order = [
      curl.connect,
      curl.pretransfer,
      curl.starttransfer,
      curl.total,
    ];
    assert.ok(order.every((t) => t !== undefined), JSON.stringify(curl));
    assert.deepEqual([...order].sort((a, b) => a! - b!), order);
    assert.match(formatRequestTimings(recorder.timings()), /dial \(from/);
  } finally {
    await fetch.close();
    await server.close();
  }
});

test("formatHttpstat() draws the phases, the cumulative times and each attempt of the race", () => {
  const t: RequestTimings = {
    method: "GET",
    url: "https://app.test/",
    attempts: 1,
    reused: false,
    numConnects: 1,
    dialStart: 1,
    curl: {
      redirect: 0,
      namelookup: 3,
      connect: 260,
      appconnect: 270,
      pretransfer: 270,
      starttransfer: 290,
      total: 292,
    },
    dial: {
      outcome: "connected",
      curl: {},
      attempts: [
        {
          attempt: 0,
          addr: "[2001:db8::2]:443",
          family: 6,
          cause: "first",
          start: 2,
          end: 259,
          outcome: "cancelled",
          error: "operation was canceled",
          won: false,
        },
        {
          attempt: 1,
          addr: "198.18.0.1:443",
          family: 4,
          cause: "delay",
          start: 252,
          end: 259,
          outcome: "connected",
          won: true,
        },
      ],
    },
  };
  assert.equal(
    formatHttpstat(t),
    [
      "GET https://app.test/",
      "",
      "  DNS Lookup   TCP Connection   TLS Handshake   Server Processing   Content Transfer",
      "[    3ms     |     257ms      |     10ms      |       20ms        |       2ms        ]",
      "namelookup:3ms",
      "                  connect:260ms",
      "                               appconnect:270ms",
      "                                                starttransfer:290ms",
      "                                                                           total:292ms",
      "",
      "connection attempts (ms since the request started):",
      "    [2001:db8::2]:443  3ms → 260ms  cancelled: operation was canceled",
      "  * 198.18.0.1:443  253ms → 260ms  connected",
      "",
    ].join("\n"),
  );
});

test("formatHttpstat() shows only server processing and transfer for a reused connection", () => {
  const text = formatHttpstat({
    method: "GET",
    url: "http://app.test/x",
    attempts: 1,
    reused: true,
    numConnects: 0,
    curl: { redirect: 0, pretransfer: 0.2, starttransfer: 1.4, total: 1.6 },
  });
  assert.equal(
    text,
    [
      "GET http://app.test/x (reused connection)",
      "",
      "  Server Processing   Content Transfer",
      "[        1ms        |       0ms        ]",
      "    starttransfer:1ms",
      "                               total:2ms",
      "",
    ].join("\n"),
  );
});
