import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  background,
  type ConnectDoneInfo,
  type ConnectStartInfo,
  contextTrace,
  createContextKey,
  dial,
  type DNSDoneInfo,
  type DNSStartInfo,
  type HookErrorHandler,
  type HookName,
  LookupIPAltResolverKey,
  setHookErrorHandler,
  type TLSHandshakeStartInfo,
  type Trace,
  TraceKey,
  withTrace,
  withValue,
} from "../mod.ts";
import {
  FakeDialer,
  FakeResolver,
  flush,
  VirtualClock,
} from "./_virtual_clock.ts";

const DNS_START: DNSStartInfo = { host: "example.test" };
const DNS_DONE: DNSDoneInfo = {
  cached: false,
  host: "example.test",
  addrs: [{ address: "192.0.2.1", family: 4 }],
  coalesced: false,
};
const CONNECT_START: ConnectStartInfo = {
  network: "tcp",
  addr: "192.0.2.1:80",
  family: 4,
  attempt: 0,
  cause: "first",
};
const CONNECT_DONE: ConnectDoneInfo = {
  network: "tcp",
  addr: "192.0.2.1:80",
  family: 4,
  attempt: 0,
};

const TLS_START: TLSHandshakeStartInfo = {
  serverName: "dial.test",
  addr: "192.0.2.1:443",
  family: 4,
  attempt: 0,
};

/** Every hook, in the order a TLS dial of a name fires them. */
const ALL_HOOKS: HookName[] = [
  "dialStart",
  "dnsStart",
  "dnsAnswer",
  "dnsDone",
  "connectStart",
  "connectDone",
  "tlsHandshakeStart",
  "tlsHandshakeDone",
  "dialDone",
];

/** Calls every hook of a trace once, as dial() would. */
function fireAll(trace: Trace | undefined): void {
  trace?.dialStart?.({ network: "tcp", address: "dial.test:443" });
  trace?.dnsStart?.(DNS_START);
  trace?.dnsAnswer?.({
    host: "dial.test",
    family: 4,
    addrs: [],
    coalesced: false,
    cached: false,
  });
  trace?.dnsDone?.(DNS_DONE);
  trace?.connectStart?.(CONNECT_START);
  trace?.connectDone?.(CONNECT_DONE);
  trace?.tlsHandshakeStart?.(TLS_START);
  trace?.tlsHandshakeDone?.({ ...TLS_START, alpnProtocol: null });
  trace?.dialDone?.({ network: "tcp", address: "dial.test:443" });
}

/** A trace whose four Go hooks log `name hook`. */
function layer(name: string, log: string[]): Trace {
  return {
    dnsStart: () => log.push(`${name} dnsStart`),
    dnsDone: () => log.push(`${name} dnsDone`),
    connectStart: () => log.push(`${name} connectStart`),
    connectDone: () => log.push(`${name} connectDone`),
  };
}

/** A trace whose every hook logs `name hook`. */
function fullLayer(name: string, log: string[]): Trace {
  const trace: Trace = {};
  for (const hook of ALL_HOOKS) {
    (trace as Record<HookName, () => void>)[hook] = () =>
      log.push(`${name} ${hook}`);
  }
  return trace;
}

/** Installs a hook error handler for the duration of `fn`. */
async function withHandler(
  handler: HookErrorHandler | undefined,
  fn: () => Promise<void> | void,
): Promise<void> {
  const previous = setHookErrorHandler(handler);
  try {
    await fn();
  } finally {
    setHookErrorHandler(previous);
  }
}

/** Replaces console.error for the duration of `fn`, collecting its calls. */
async function captureConsoleError(
  fn: () => Promise<void> | void,
): Promise<unknown[][]> {
  const calls: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    calls.push(args);
  };
  try {
    await fn();
  } finally {
    console.error = original;
  }
  return calls;
}

/** A dial of `dial.test:80` that succeeds at once on the virtual clock. */
async function tracedDial(
  options: { trace?: Trace; context?: typeof background },
) {
  const clock = new VirtualClock();
  const resolver = new FakeResolver(clock, {
    "dial.test": {
      4: { at: 1, addrs: ["192.0.2.1"] },
      6: { at: 1, addrs: [] },
    },
  });
  const dialer = new FakeDialer(clock, {
    "192.0.2.1:80": { after: 2, connect: true },
  });
  const pending = dial("dial.test:80", {
    resolver,
    dialer,
    clock,
    ...options,
  });
  await clock.runAll();
  const conn = await pending;
  return { conn, dialer, clock };
}

// ── composition ────────────────────────────────────────────────────────

test("withTrace() composes three layers, newest first, for every hook", () => {
  const log: string[] = [];
  let ctx = withTrace(background, fullLayer("oldest", log));
  ctx = withTrace(ctx, fullLayer("middle", log));
  ctx = withTrace(ctx, fullLayer("newest", log));
  fireAll(contextTrace(ctx));
  assert.deepEqual(
    log,
    ALL_HOOKS.flatMap((h) => [`newest ${h}`, `middle ${h}`, `oldest ${h}`]),
  );
});

test("withTrace() hands every layer the same info object", () => {
  const seen: unknown[] = [];
  let ctx = withTrace(background, { dnsDone: (i) => seen.push(i) });
  ctx = withTrace(ctx, { dnsDone: (i) => seen.push(i) });
  contextTrace(ctx)!.dnsDone!(DNS_DONE);
  assert.equal(seen.length, 2);
  assert.equal(seen[0], DNS_DONE);
  assert.equal(seen[1], DNS_DONE);
});

test("withTrace() skips a layer that lacks a hook and keeps the order of the others", () => {
  const log: string[] = [];
  let ctx = withTrace(background, layer("oldest", log));
  ctx = withTrace(ctx, { dnsStart: () => log.push("middle dnsStart") });
  ctx = withTrace(ctx, layer("newest", log));
  fireAll(contextTrace(ctx));
  assert.deepEqual(log, [
    "newest dnsStart",
    "middle dnsStart",
    "oldest dnsStart",
    "newest dnsDone",
    "oldest dnsDone",
    "newest connectStart",
    "oldest connectStart",
    "newest connectDone",
    "oldest connectDone",
  ]);
});

test("withTrace() leaves a hook no layer has unset", () => {
  const log: string[] = [];
  let ctx = withTrace(background, { dnsStart: () => log.push("a") });
  ctx = withTrace(ctx, { dnsStart: () => log.push("b") });
  ctx = withTrace(ctx, {});
  const trace = contextTrace(ctx)!;
  assert.equal(trace.connectStart, undefined);
  assert.equal(trace.connectDone, undefined);
  assert.equal(trace.dnsDone, undefined);
  trace.dnsStart!(DNS_START);
  assert.deepEqual(log, ["b", "a"]);
});

test("withTrace() does not change the parent's trace", () => {
  const log: string[] = [];
  const parent = withTrace(background, layer("parent", log));
  const child = withTrace(parent, layer("child", log));
  fireAll(contextTrace(parent));
  assert.deepEqual(log, [
    "parent dnsStart",
    "parent dnsDone",
    "parent connectStart",
    "parent connectDone",
  ]);
  log.length = 0;
  contextTrace(child)!.dnsStart!(DNS_START);
  assert.deepEqual(log, ["child dnsStart", "parent dnsStart"]);
});

test("dial() runs the trace option before the context's trace", async () => {
  const log: string[] = [];
  const context = withTrace(background, {
    dnsStart: () => log.push("context dnsStart"),
    connectDone: () => log.push("context connectDone"),
  });
  await tracedDial({
    context,
    trace: {
      dnsStart: () => log.push("option dnsStart"),
      connectDone: () => log.push("option connectDone"),
    },
  });
  assert.deepEqual(log, [
    "option dnsStart",
    "context dnsStart",
    "option connectDone",
    "context connectDone",
  ]);
});

// ── `this` ─────────────────────────────────────────────────────────────

class CountingTrace implements Trace {
  #events: string[] = [];
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  get events(): string[] {
    return this.#events;
  }

  dnsStart(info: DNSStartInfo): void {
    this.#events.push(`${this.name} dnsStart ${info.host}`);
  }

  connectStart(info: ConnectStartInfo): void {
    this.#events.push(`${this.name} connectStart ${info.addr}`);
  }

  connectDone(info: ConnectDoneInfo): void {
    this.#events.push(
      `${this.name} connectDone ${info.addr} ${info.error ? "error" : "ok"}`,
    );
  }
}

test("a class-based trace's hooks run with `this` bound to the instance inside a composition", () => {
  const older = new CountingTrace("older");
  const newer = new CountingTrace("newer");
  let ctx = withTrace(background, older);
  ctx = withTrace(ctx, newer);
  // Only the newer layer has dnsDone: the lone-hook path binds `this` too.
  ctx = withTrace(ctx, {
    dnsDone() {
      assert.equal(typeof this.dnsDone, "function");
    },
  });
  let reported: unknown;
  const previous = setHookErrorHandler((error) => {
    reported = error;
  });
  try {
    fireAll(contextTrace(ctx));
  } finally {
    setHookErrorHandler(previous);
  }
  assert.equal(reported, undefined, "a hook failed: `this` was not bound");
  assert.deepEqual(newer.events, [
    "newer dnsStart example.test",
    "newer connectStart 192.0.2.1:80",
    "newer connectDone 192.0.2.1:80 ok",
  ]);
  assert.deepEqual(older.events, [
    "older dnsStart example.test",
    "older connectStart 192.0.2.1:80",
    "older connectDone 192.0.2.1:80 ok",
  ]);
});

test("dial() calls a class-based trace's hooks with `this` bound to the instance", async () => {
  const alone = new CountingTrace("alone");
  await tracedDial({ trace: alone });
  assert.deepEqual(alone.events, [
    "alone dnsStart dial.test",
    "alone connectStart 192.0.2.1:80",
    "alone connectDone 192.0.2.1:80 ok",
  ]);

  const inner = new CountingTrace("inner");
  const outer = new CountingTrace("outer");
  await tracedDial({ context: withTrace(background, inner), trace: outer });
  assert.equal(inner.events.length, 3);
  assert.equal(outer.events.length, 3);
});

// ── errors of hooks ────────────────────────────────────────────────────

test("a throwing hook does not stop the other layers and is reported with its name", async () => {
  const reported: [unknown, HookName][] = [];
  await withHandler((error, hook) => reported.push([error, hook]), () => {
    const log: string[] = [];
    const thrown = new Error("hook bug");
    let ctx = withTrace(background, layer("oldest", log));
    ctx = withTrace(ctx, {
      connectStart() {
        throw thrown;
      },
    });
    ctx = withTrace(ctx, layer("newest", log));
    fireAll(contextTrace(ctx));
    assert.deepEqual(log, [
      "newest dnsStart",
      "oldest dnsStart",
      "newest dnsDone",
      "oldest dnsDone",
      "newest connectStart",
      "oldest connectStart",
      "newest connectDone",
      "oldest connectDone",
    ]);
    assert.deepEqual(reported, [[thrown, "connectStart"]]);
  });
});

test("a throwing newest layer does not stop the older ones", async () => {
  const reported: HookName[] = [];
  await withHandler((_error, hook) => reported.push(hook), () => {
    const log: string[] = [];
    let ctx = withTrace(background, layer("oldest", log));
    ctx = withTrace(ctx, {
      dnsStart() {
        throw "not even an Error";
      },
      dnsDone() {
        throw new TypeError("second");
      },
    });
    fireAll(contextTrace(ctx));
    assert.deepEqual(log, [
      "oldest dnsStart",
      "oldest dnsDone",
      "oldest connectStart",
      "oldest connectDone",
    ]);
    assert.deepEqual(reported, ["dnsStart", "dnsDone"]);
  });
});

test("a hook that throws in every hook leaves dial()'s result unchanged and is reported once per call", async () => {
  const reported: [unknown, HookName][] = [];
  const thrown = new Error("always");
  const bad: Trace = {
    dnsStart() {
      throw thrown;
    },
    dnsDone() {
      throw thrown;
    },
    connectStart() {
      throw thrown;
    },
    connectDone() {
      throw thrown;
    },
  };
  await withHandler((error, hook) => reported.push([error, hook]), async () => {
    const { conn, dialer, clock } = await tracedDial({ trace: bad });
    assert.equal(conn.addr, "192.0.2.1:80");
    assert.equal(conn.closed, false);
    assert.equal(dialer.calls.length, 1);
    assert.equal(clock.pending, 0);
  });
  assert.deepEqual(reported, [
    [thrown, "dnsStart"],
    [thrown, "dnsDone"],
    [thrown, "connectStart"],
    [thrown, "connectDone"],
  ]);
});

test("a hook that returns a rejected promise is reported, the others still run", async () => {
  const reported: [unknown, HookName][] = [];
  const rejection = new Error("async hook failed");
  await withHandler((error, hook) => reported.push([error, hook]), async () => {
    const log: string[] = [];
    let ctx = withTrace(background, layer("oldest", log));
    ctx = withTrace(ctx, {
      // Typed as void, but an async function is a common mistake.
      dnsDone: (async () => {
        await null;
        throw rejection;
      }) as unknown as Trace["dnsDone"],
      connectDone: (() => Promise.resolve("fine")) as unknown as Trace[
        "connectDone"
      ],
    });
    fireAll(contextTrace(ctx));
    assert.equal(log.length, 4);
    assert.deepEqual(reported, [], "reported before the promise settled");
    await flush();
    assert.deepEqual(reported, [[rejection, "dnsDone"]]);
  });
});

test("dial() reports a hook's rejected promise without changing its result", async () => {
  const reported: HookName[] = [];
  await withHandler((_error, hook) => reported.push(hook), async () => {
    const trace = {
      connectStart: () => Promise.reject(new Error("later")),
    } as unknown as Trace;
    const { conn } = await tracedDial({ trace });
    assert.equal(conn.closed, false);
    await flush();
  });
  assert.deepEqual(reported, ["connectStart"]);
});

test("the default hook error handler prints with console.error", async () => {
  const thrown = new Error("printed");
  const printed = await captureConsoleError(() =>
    withHandler(undefined, async () => {
      await tracedDial({
        trace: {
          dnsStart() {
            throw thrown;
          },
        },
      });
    })
  );
  assert.equal(printed.length, 1);
  assert.match(String(printed[0]![0]), /dnsStart/);
  assert.ok(printed[0]!.includes(thrown));
});

test("a throwing hook error handler falls back to the default one", async () => {
  const handlerError = new Error("handler bug");
  const hookError = new Error("hook bug");
  const printed = await captureConsoleError(() =>
    withHandler(() => {
      throw handlerError;
    }, () => {
      let ctx = withTrace(background, {});
      ctx = withTrace(ctx, {
        connectDone() {
          throw hookError;
        },
      });
      const log: string[] = [];
      ctx = withTrace(ctx, layer("newest", log));
      fireAll(contextTrace(ctx));
      // The handler's failure does not escape into the hook's caller.
      assert.equal(log.length, 4);
    })
  );
  assert.equal(printed.length, 1);
  assert.match(String(printed[0]![0]), /connectDone/);
  assert.ok(printed[0]!.includes(handlerError));
});

test("setHookErrorHandler() returns the handler it replaces", () => {
  const first: HookErrorHandler = () => {};
  const second: HookErrorHandler = () => {};
  const original = setHookErrorHandler(first);
  try {
    assert.equal(setHookErrorHandler(second), first);
    assert.equal(setHookErrorHandler(undefined), second);
    // undefined installed the default, which is returned as a function.
    const dflt = setHookErrorHandler(first);
    assert.equal(typeof dflt, "function");
    assert.notEqual(dflt, first);
    assert.notEqual(dflt, second);
  } finally {
    setHookErrorHandler(original);
  }
});

// ── keys ───────────────────────────────────────────────────────────────

test("contextTrace() finds the trace stored under TraceKey", () => {
  assert.equal(contextTrace(background), undefined);
  const trace: Trace = { dnsStart: () => {} };
  const ctx = withTrace(background, trace);
  assert.equal(contextTrace(ctx), ctx.value(TraceKey));
  // A trace stored directly under the key is the context's trace too.
  const direct = withValue(background, TraceKey, trace);
  assert.equal(contextTrace(direct), trace);
  // Other values on top do not hide it.
  const deeper = withValue(ctx, createContextKey<number>("n"), 1);
  assert.equal(contextTrace(deeper), contextTrace(ctx));
});

test("TraceKey and LookupIPAltResolverKey are distinct keys, apart from look-alikes", () => {
  assert.notEqual(TraceKey as unknown, LookupIPAltResolverKey as unknown);
  const lookalike = createContextKey<Trace>(TraceKey.description);
  assert.notEqual(lookalike, TraceKey);
  const trace: Trace = {};
  const resolver = { lookup: () => Promise.resolve([]) };
  let ctx = withValue(background, TraceKey, trace);
  ctx = withValue(ctx, LookupIPAltResolverKey, resolver);
  ctx = withValue(ctx, lookalike, { dnsStart: () => {} });
  assert.equal(ctx.value(TraceKey), trace);
  assert.equal(ctx.value(LookupIPAltResolverKey), resolver);
  assert.equal(contextTrace(ctx), trace);
});

test("a resolver under LookupIPAltResolverKey replaces dial()'s resolver", async () => {
  const clock = new VirtualClock();
  const given = new FakeResolver(clock, {});
  const alt = new FakeResolver(clock, {
    "alt.test": {
      4: { at: 0, addrs: ["198.18.0.1"] },
      6: { at: 0, addrs: [] },
    },
  });
  const dialer = new FakeDialer(clock, {
    "198.18.0.1:80": { after: 1, connect: true },
  });
  const pending = dial("alt.test:80", {
    resolver: given,
    dialer,
    clock,
    context: withValue(background, LookupIPAltResolverKey, alt),
  });
  await clock.runAll();
  assert.equal((await pending).addr, "198.18.0.1:80");
  assert.equal(given.calls.length, 0);
  assert.deepEqual(alt.calls.map((c) => c.family).sort(), [4, 6]);
});

// ── hooks that abort the dial ──────────────────────────────────────────

test("a dnsStart hook that aborts the dial stops it before any lookup", async () => {
  const clock = new VirtualClock();
  const resolver = new FakeResolver(clock, {});
  const dialer = new FakeDialer(clock, {});
  const controller = new AbortController();
  const reason = new Error("policy: no lookups");
  const done: DNSDoneInfo[] = [];
  const pending = dial("policy.test:80", {
    resolver,
    dialer,
    clock,
    signal: controller.signal,
    trace: {
      dnsStart: () => controller.abort(reason),
      dnsDone: (info) => done.push(info),
    },
  });
  await assert.rejects(pending, (error) => error === reason);
  assert.equal(resolver.calls.length, 0);
  assert.equal(done.length, 1);
  assert.ok(done[0]!.error !== undefined);
  assert.equal(clock.pending, 0);
});

// Fails at the time of writing: dial() calls dialer.connect() for the
// attempt whose connectStart hook aborted the dial (the dial has already
// rejected by then), with a signal that is only aborted afterwards.
test("a connectStart hook that aborts the dial keeps the dialer from being called", async () => {
  const clock = new VirtualClock();
  const dialer = new FakeDialer(clock, {
    "192.0.2.1:80": { after: 5, connect: true },
  });
  const controller = new AbortController();
  const reason = new Error("policy: not that address");
  const events: string[] = [];
  const pending = dial("192.0.2.1:80", {
    resolver: new FakeResolver(clock, {}),
    dialer,
    clock,
    signal: controller.signal,
    trace: {
      connectStart: (info) => {
        events.push(`connectStart ${info.addr}`);
        controller.abort(reason);
      },
      connectDone: (info) =>
        events.push(`connectDone ${info.addr} ${info.error?.message}`),
    },
  });
  await assert.rejects(pending, (error) => error === reason);
  await clock.runAll();
  assert.deepEqual(events, [
    "connectStart 192.0.2.1:80",
    "connectDone 192.0.2.1:80 dial tcp 192.0.2.1:80: operation was canceled",
  ]);
  assert.deepEqual(dialer.starts, [], "the dialer was called after the abort");
  assert.equal(clock.pending, 0);
});
