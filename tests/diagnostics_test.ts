// The dial events on node:diagnostics_channel (runtimes/_diagnostics.ts):
// the channels' names, what each message carries, one dialId per dial, no
// trace at all when nobody subscribes, a throwing subscriber, and a real
// loopback dial through this runtime's adapter.
//
// The core tests drive dial() on a virtual clock with the diagnostics trace
// as options.trace (the adapters add it to every dial themselves).

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import process from "node:process";
import {
  composeTraces,
  DIAGNOSTICS_CHANNELS,
  diagnosticTrace,
  withDiagnostics,
} from "../runtimes/_diagnostics.ts";
import { dial, type HookName, type Trace } from "../mod.ts";
import {
  FakeDialer,
  FakeResolver,
  flush,
  VirtualClock,
} from "./_virtual_clock.ts";
import { startEchoServer } from "./_tcp_fixtures.ts";

const HOOKS = Object.keys(DIAGNOSTICS_CHANNELS) as HookName[];

/** One message heard: its channel and what it carried. */
interface Heard {
  channel: string;
  message: Record<string, unknown>;
}

/**
 * Subscribes to `channels` (default: all nine) for the length of `fn`,
 * collecting every message in order.
 */
async function listening<T>(
  fn: (heard: Heard[]) => Promise<T> | T,
  channels: readonly string[] = Object.values(DIAGNOSTICS_CHANNELS),
): Promise<T> {
  const heard: Heard[] = [];
  const subscribers = channels.map((channel) => {
    const fn = (message: unknown) =>
      heard.push({ channel, message: message as Record<string, unknown> });
    subscribe(channel, fn);
    return [channel, fn] as const;
  });
  try {
    return await fn(heard);
  } finally {
    for (const [channel, fn] of subscribers) unsubscribe(channel, fn);
  }
}

/** A trace that records every hook's info object as it was given. */
function recorder(calls: [HookName, unknown][]): Trace {
  const trace: Record<string, (info: unknown) => void> = {};
  for (const hook of HOOKS) trace[hook] = (info) => calls.push([hook, info]);
  return trace as Trace;
}

test("DIAGNOSTICS_CHANNELS names one nettrace:subject:event channel per hook", () => {
  assert.deepEqual({ ...DIAGNOSTICS_CHANNELS }, {
    dialStart: "nettrace:dial:start",
    dnsStart: "nettrace:dns:start",
    dnsAnswer: "nettrace:dns:answer",
    dnsDone: "nettrace:dns:done",
    connectStart: "nettrace:connect:start",
    connectDone: "nettrace:connect:done",
    tlsHandshakeStart: "nettrace:tls:start",
    tlsHandshakeDone: "nettrace:tls:done",
    dialDone: "nettrace:dial:done",
  });
  assert.ok(Object.isFrozen(DIAGNOSTICS_CHANNELS));
});

test("diagnosticTrace() returns undefined while no channel has a subscriber", async () => {
  assert.equal(diagnosticTrace("tcp", "a.test:80"), undefined);
  await listening(() => {
    assert.notEqual(diagnosticTrace("tcp", "a.test:80"), undefined);
  }, ["nettrace:dial:done"]);
  // Unsubscribed again: back to no trace at all.
  assert.equal(diagnosticTrace("tcp", "a.test:80"), undefined);
});

test("diagnosticTrace() sets only the hooks whose channel has a subscriber", async () => {
  await listening(() => {
    const trace = diagnosticTrace("tcp", "a.test:80")!;
    assert.deepEqual(Object.keys(trace).sort(), ["connectDone", "dnsStart"]);
  }, ["nettrace:connect:done", "nettrace:dns:start"]);
  await listening(() => {
    const trace = diagnosticTrace("tcp", "a.test:80")!;
    assert.deepEqual(Object.keys(trace).sort(), [...HOOKS].sort());
  });
});

test("diagnosticTrace() publishes each hook's info with the dial's id, network, address and times", async () => {
  await listening((heard) => {
    let now = 7;
    const trace = diagnosticTrace("tcp6", "h.test:443", { now: () => now })!;
    const info = { host: "h.test" };
    now = 9;
    trace.dnsStart!(info);
    trace.tlsHandshakeDone!({
      serverName: "h.test",
      addr: "[2001:db8::1]:443",
      family: 6,
      attempt: 0,
      alpnProtocol: "h2",
      tlsVersion: "TLSv1.3",
    });
    assert.deepEqual(info, { host: "h.test" }, "the info is not changed");
    const dialId = heard[0]!.message.dialId as number;
    assert.ok(Number.isInteger(dialId) && dialId > 0);
    assert.deepEqual(heard, [{
      channel: "nettrace:dns:start",
      message: {
        host: "h.test",
        dialId,
        network: "tcp6",
        address: "h.test:443",
        startTime: 7,
        time: 9,
      },
    }, {
      channel: "nettrace:tls:done",
      message: {
        serverName: "h.test",
        addr: "[2001:db8::1]:443",
        family: 6,
        attempt: 0,
        alpnProtocol: "h2",
        tlsVersion: "TLSv1.3",
        dialId,
        network: "tcp6",
        address: "h.test:443",
        startTime: 7,
        time: 9,
      },
    }]);
  });
});

test("diagnosticTrace() publishes nothing once the subscriber has left mid-dial", () => {
  const heard: unknown[] = [];
  const fn = (message: unknown) => heard.push(message);
  subscribe("nettrace:dns:start", fn);
  let trace: Trace;
  try {
    trace = diagnosticTrace("tcp", "a.test:80")!;
    trace.dnsStart!({ host: "a.test" });
  } finally {
    unsubscribe("nettrace:dns:start", fn);
  }
  trace.dnsStart!({ host: "a.test" });
  assert.equal(heard.length, 1);
});

test("dial() with diagnosticTrace() publishes every hook on its channel, in order, with one dialId", async () => {
  const clock = new VirtualClock();
  const resolver = new FakeResolver(clock, {
    "svc.test": {
      6: { at: 10, addrs: ["2001:db8::1"] },
      4: { at: 20, addrs: ["192.0.2.1"] },
    },
  });
  const dialer = new FakeDialer(clock, {
    "[2001:db8::1]:80": { after: 30, connect: true },
  });
  const calls: [HookName, unknown][] = [];
  await listening(async (heard) => {
    const diag = diagnosticTrace("tcp", "svc.test:80", {
      now: () => clock.now(),
    })!;
    const dialing = dial("svc.test:80", {
      resolver,
      dialer,
      clock,
      // The user's own trace sees the very same info objects.
      trace: composeTraces(diag, recorder(calls)),
    });
    await clock.runAll();
    const conn = await dialing;
    assert.equal(conn.addr, "[2001:db8::1]:80");

    const dialId = heard[0]!.message.dialId;
    assert.deepEqual(
      heard.map(({ channel, message }) =>
        `${message.time} ${channel} #${
          message.dialId === dialId ? "id" : message.dialId
        }`
      ),
      [
        "0 nettrace:dial:start #id",
        "0 nettrace:dns:start #id",
        "10 nettrace:dns:answer #id",
        "10 nettrace:connect:start #id",
        "20 nettrace:dns:answer #id",
        "20 nettrace:dns:done #id",
        "40 nettrace:connect:done #id",
        "40 nettrace:dial:done #id",
      ],
    );
    // Each message is the hook's info plus the dial's fields.
    assert.deepEqual(
      heard.map(({ channel }) => channel),
      calls.map(([hook]) => DIAGNOSTICS_CHANNELS[hook]),
    );
    heard.forEach(({ message }, i) => {
      assert.deepEqual(message, {
        ...(calls[i]![1] as object),
        dialId,
        network: "tcp",
        address: "svc.test:80",
        startTime: 0,
        time: message.time,
      });
    });
    assert.deepEqual(heard.at(-1)!.message, {
      network: "tcp",
      address: "svc.test:80",
      addr: "[2001:db8::1]:80",
      family: 6,
      attempt: 0,
      dialId,
      startTime: 0,
      time: 40,
    });
  });
  await flush();
  assert.equal(clock.pending, 0);
});

test("dial() with diagnosticTrace() publishes the failure of a dial on nettrace:dial:done", async () => {
  const clock = new VirtualClock();
  const resolver = new FakeResolver(clock, {});
  const dialer = new FakeDialer(clock, {
    "127.0.0.1:1": { after: 2, fail: "ECONNREFUSED" },
  });
  await listening(async (heard) => {
    const dialing = dial("127.0.0.1:1", {
      network: "tcp4",
      resolver,
      dialer,
      clock,
      trace: diagnosticTrace("tcp4", "127.0.0.1:1", { now: () => clock.now() }),
    });
    const outcome = dialing.then(() => undefined, (error: Error) => error);
    await clock.runAll();
    const error = await outcome;
    assert.ok(error instanceof Error);
    assert.deepEqual(
      heard.map(({ channel, message }) => `${message.time} ${channel}`),
      [
        "0 nettrace:dial:start",
        "0 nettrace:connect:start",
        "2 nettrace:connect:done",
        "2 nettrace:dial:done",
      ],
    );
    const done = heard.at(-1)!.message;
    assert.equal(done.error, error, "the error the dial rejects with");
    assert.equal(done.addr, undefined);
    assert.equal(
      (heard[2]!.message.error as Error).message,
      "dial tcp4 127.0.0.1:1: connect: connection refused",
    );
  });
});

test("two concurrent dials publish under distinct dialIds", async () => {
  const clock = new VirtualClock();
  const resolver = new FakeResolver(clock, {});
  const dialer = new FakeDialer(clock, {
    "192.0.2.1:80": { after: 5, connect: true },
    "192.0.2.2:80": { after: 3, connect: true },
  });
  await listening(async (heard) => {
    const dials = ["192.0.2.1:80", "192.0.2.2:80"].map((address) =>
      dial(address, {
        resolver,
        dialer,
        clock,
        trace: diagnosticTrace("tcp", address, { now: () => clock.now() }),
      })
    );
    await clock.runAll();
    await Promise.all(dials);
    const ids = [...new Set(heard.map(({ message }) => message.dialId))];
    assert.equal(ids.length, 2);
    assert.equal(ids[1], (ids[0] as number) + 1);
    for (const [i, id] of ids.entries()) {
      const mine = heard.filter(({ message }) => message.dialId === id);
      assert.deepEqual(
        mine.map(({ channel, message }) =>
          `${message.time} ${channel} ${message.address}`
        ),
        [
          `0 nettrace:dial:start 192.0.2.${i + 1}:80`,
          `0 nettrace:connect:start 192.0.2.${i + 1}:80`,
          `${5 - 2 * i} nettrace:connect:done 192.0.2.${i + 1}:80`,
          `${5 - 2 * i} nettrace:dial:done 192.0.2.${i + 1}:80`,
        ],
      );
    }
  });
});

test("dial() with diagnosticTrace() publishes the TLS handshake on nettrace:tls:start and nettrace:tls:done", async () => {
  const clock = new VirtualClock();
  const resolver = new FakeResolver(clock, {});
  const dialer = new FakeDialer(clock, {
    "192.0.2.1:443": { after: 4, connect: true },
  });
  dialer.tls = { "192.0.2.1:443": { after: 6, alpn: "h2" } };
  await listening(async (heard) => {
    const dialing = dial("192.0.2.1:443", {
      resolver,
      dialer,
      clock,
      tls: { serverName: "api.test", alpnProtocols: ["h2"] },
      trace: diagnosticTrace("tcp", "192.0.2.1:443", {
        now: () => clock.now(),
      }),
    });
    await clock.runAll();
    const conn = await dialing;
    assert.equal(conn.tls?.alpnProtocol, "h2");
    assert.deepEqual(
      heard.map(({ channel, message }) => `${message.time} ${channel}`),
      [
        "0 nettrace:dial:start",
        "0 nettrace:connect:start",
        "4 nettrace:connect:done",
        "4 nettrace:tls:start",
        "10 nettrace:tls:done",
        "10 nettrace:dial:done",
      ],
    );
    const { dialId } = heard[0]!.message;
    assert.deepEqual(heard[4]!.message, {
      serverName: "api.test",
      addr: "192.0.2.1:443",
      family: 4,
      attempt: 0,
      alpnProtocol: "h2",
      tlsVersion: "TLSv1.3",
      dialId,
      network: "tcp",
      address: "192.0.2.1:443",
      startTime: 0,
      time: 10,
    });
  });
});

test("withDiagnostics() returns the very options given while nobody subscribes", () => {
  const options = { network: "tcp4" as const, timeout: 5 };
  assert.equal(withDiagnostics("a.test:80", options), options);
  assert.equal(withDiagnostics("a.test:80", undefined), undefined);
});

test("withDiagnostics() adds the diagnostics trace before the user's, on a copy", async () => {
  await listening((heard) => {
    const none = withDiagnostics("a.test:80", undefined)!;
    assert.deepEqual(Object.keys(none), ["trace"]);
    none.trace!.dnsStart!({ host: "a.test" });
    assert.equal(heard.length, 1);
    assert.equal(heard[0]!.message.network, "tcp");

    const order: string[] = [];
    const mine: Trace = { dnsStart: () => order.push(`user ${heard.length}`) };
    const options = { network: "tcp6" as const, trace: mine, timeout: 5 };
    const wired = withDiagnostics("a.test:80", options)!;
    assert.notEqual(wired, options);
    assert.equal(options.trace, mine, "the caller's options are not changed");
    assert.equal(wired.timeout, 5);
    wired.trace!.dnsStart!({ host: "a.test" });
    // The message went out first, then the user's hook ran.
    assert.deepEqual(order, ["user 2"]);
    assert.equal(heard[1]!.message.network, "tcp6");

    // Not a trace: left for the core to reject.
    const bad = { trace: 42 as unknown as Trace };
    assert.equal(withDiagnostics("a.test:80", bad), bad);
  }, ["nettrace:dns:start"]);
});

test("composeTraces() calls the first trace's hook, then the second's, each on its own object", () => {
  const order: string[] = [];
  const first = {
    name: "first",
    dnsStart(this: { name: string }, info: { host: string }) {
      order.push(`${this.name} ${info.host}`);
    },
  };
  const second = {
    name: "second",
    dnsStart(this: { name: string }, info: { host: string }) {
      order.push(`${this.name} ${info.host}`);
    },
    dialDone(this: { name: string }) {
      order.push(`${this.name} dialDone`);
    },
  };
  const trace = composeTraces(first, second);
  assert.deepEqual(Object.keys(trace).sort(), ["dialDone", "dnsStart"]);
  trace.dnsStart!({ host: "a.test" });
  trace.dialDone!({ network: "tcp", address: "a.test:1" });
  assert.deepEqual(order, ["first a.test", "second a.test", "second dialDone"]);
});

test("composeTraces() still calls the second hook when the first throws, then throws its error", async () => {
  const order: string[] = [];
  const boom = new Error("first failed");
  const trace = composeTraces({
    dnsStart: () => {
      throw boom;
    },
  }, {
    dnsStart: () => {
      order.push("second");
    },
    dnsDone: () => Promise.reject(new Error("later")),
  });
  assert.throws(() => trace.dnsStart!({ host: "a.test" }), boom);
  assert.deepEqual(order, ["second"]);
  // A promise from the second hook is handed back for the core to watch.
  const result = (trace.dnsDone as (info: unknown) => unknown)({}) as Promise<
    void
  >;
  await assert.rejects(result, /later/);
});

/**
 * Runs `code` (an ES module) in a fresh process of this runtime, and
 * returns what it printed. The modules are passed as absolute URLs.
 */
function runChild(code: string): Promise<string> {
  const isDeno = "Deno" in globalThis;
  const isBun = "Bun" in globalThis;
  const args = isDeno
    ? ["eval", "--quiet", code]
    : isBun
    ? ["-e", code]
    : ["--input-type=module", "--no-warnings", "-e", code];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`child failed: ${error.message}\n${stderr}`));
      } else resolve(stdout);
    });
  });
}

test("a diagnostics subscriber that throws changes nothing about the dial (it reaches uncaughtException)", async () => {
  // diagnostics_channel rethrows a subscriber's error on a later tick, as
  // an uncaught exception: in a child process, so that the test runner
  // (Bun's fails the test on any uncaught error) does not see it.
  const url = (path: string) => new URL(path, import.meta.url).href;
  const code = `
    import process from "node:process";
    import { subscribe } from "node:diagnostics_channel";
    const { diagnosticTrace } = await import(${
    JSON.stringify(url("../runtimes/_diagnostics.ts"))
  });
    const { dial } = await import(${JSON.stringify(url("../mod.ts"))});
    const { VirtualClock, FakeResolver, FakeDialer } = await import(${
    JSON.stringify(url("./_virtual_clock.ts"))
  });
    const uncaught = [];
    process.on("uncaughtException", (error) => uncaught.push(error.message));
    const heard = [];
    subscribe("nettrace:connect:start", () => {
      throw new Error("subscriber failed");
    });
    subscribe("nettrace:connect:start", (message) => heard.push(message.addr));
    subscribe("nettrace:dial:done", (message) => heard.push(message.addr));
    const clock = new VirtualClock();
    const dialer = new FakeDialer(clock, {
      "127.0.0.1:80": { after: 5, connect: true },
    });
    const dialing = dial("127.0.0.1:80", {
      resolver: new FakeResolver(clock, {}),
      dialer,
      clock,
      trace: diagnosticTrace("tcp", "127.0.0.1:80"),
    });
    await clock.runAll();
    const conn = await dialing;
    await new Promise((resolve) => setTimeout(resolve, 20));
    console.log(JSON.stringify({ addr: conn.addr, heard, uncaught }));
  `;
  const out = await runChild(code);
  assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)!), {
    addr: "127.0.0.1:80",
    heard: ["127.0.0.1:80", "127.0.0.1:80"],
    uncaught: ["subscriber failed"],
  });
});

/** This runtime's adapter. */
async function adapterDial(): Promise<
  (address: string) => Promise<{ close(): void }>
> {
  // Computed specifiers: each adapter type-checks only on its runtime.
  const path = "Deno" in globalThis
    ? "../runtimes/deno.ts"
    : "Bun" in globalThis
    ? "../runtimes/bun.ts"
    : "../runtimes/node.ts";
  const adapter = await import(path) as {
    dial(address: string): Promise<{ close(): void }>;
  };
  return adapter.dial;
}

test("the runtime adapter's dial() publishes a loopback dial on the diagnostics channels", async () => {
  const server = await startEchoServer();
  const address = `127.0.0.1:${server.port}`;
  const dialFn = await adapterDial();
  try {
    await listening(async (heard) => {
      const before = performance.now();
      const conn = await dialFn(address);
      conn.close();
      await server.until(() => server.eofs === 1);
      assert.deepEqual(heard.map(({ channel }) => channel), [
        "nettrace:dial:start",
        "nettrace:connect:start",
        "nettrace:connect:done",
        "nettrace:dial:done",
      ]);
      const dialId = heard[0]!.message.dialId;
      let last = before;
      for (const { message } of heard) {
        assert.equal(message.dialId, dialId);
        assert.equal(message.network, "tcp");
        assert.equal(message.address, address);
        assert.ok((message.startTime as number) >= before);
        assert.ok((message.time as number) >= last);
        last = message.time as number;
      }
      assert.equal(heard[1]!.message.addr, address);
      assert.equal(heard[2]!.message.error, undefined);
      assert.equal(heard[3]!.message.addr, address);
      assert.equal(heard[3]!.message.family, 4);
    });
    // Nobody listens any more: the next dial publishes nothing (and works).
    const conn = await dialFn(address);
    conn.close();
    await server.until(() => server.eofs === 2);
  } finally {
    await server.close();
  }
});
