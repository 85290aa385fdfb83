// OpenTelemetry spans from the trace hooks (integrations/otel.ts), checked
// with the real SDK: dials on the virtual clock for exact structure, one
// real loopback dial through this runtime's adapter.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  type Context as OtelContext,
  context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  type CoreDialOptions,
  dial,
  DialError,
  type DialOptions,
  SyscallError,
  type Trace,
} from "../mod.ts";
import { openTelemetryTrace, withOpenTelemetry } from "../integrations/otel.ts";
import { test } from "./_test.ts";
import {
  type FakeConn,
  FakeDialer,
  FakeResolver,
  flush,
  type Outcome,
  type ResolverScript,
  VirtualClock,
} from "./_virtual_clock.ts";
import { startEchoServer } from "./_tcp_fixtures.ts";

/** A provider with an in-memory exporter, and a tracer that counts spans. */
interface Harness {
  exporter: InMemorySpanExporter;
  provider: BasicTracerProvider;
  /** Records every span it starts in `started`. */
  tracer: Tracer;
  started: Span[];
  parent: Span;
  /** A context whose active span is `parent`. */
  ctx: OtelContext;
  /** Every finished span but `parent`, by name. */
  spans(): ReadableSpan[];
  span(name: string): ReadableSpan;
}

function harness(): Harness {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const real = provider.getTracer("test");
  const started: Span[] = [];
  const tracer = {
    startSpan(name, options, ctx) {
      const span = real.startSpan(name, options, ctx);
      started.push(span);
      return span;
    },
    startActiveSpan: real.startActiveSpan.bind(real),
  } as Tracer;
  const parent = real.startSpan("parent");
  const spans = () =>
    exporter.getFinishedSpans().filter((s) => s.name !== "parent")
      .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    exporter,
    provider,
    tracer,
    started,
    parent,
    ctx: trace.setSpan(ROOT_CONTEXT, parent),
    spans,
    span(name) {
      const found = spans().filter((s) => s.name === name);
      assert.equal(found.length, 1, `one ${name} in ${names(spans())}`);
      return found[0]!;
    },
  };
}

/**
 * Registers a test with a fresh harness, and afterwards ends the parent and
 * waits for the exports (InMemorySpanExporter answers on a timer).
 */
function spanTest(
  name: string,
  fn: (h: Harness) => void | Promise<void>,
): void {
  test(name, async () => {
    const h = harness();
    try {
      await fn(h);
    } finally {
      h.parent.end();
      await h.provider.forceFlush();
      await h.provider.shutdown();
    }
  });
}

function names(spans: ReadableSpan[]): string {
  return spans.map((s) => s.name).join(", ");
}

/** The world of one virtual-clock dial. */
interface World {
  clock: VirtualClock;
  resolver: FakeResolver;
  dialer: FakeDialer;
}

function world(
  script: ResolverScript,
  outcomes: Record<string, Outcome>,
): World {
  const clock = new VirtualClock();
  return {
    clock,
    resolver: new FakeResolver(clock, script),
    dialer: new FakeDialer(clock, outcomes),
  };
}

function options(
  w: World,
  trace: Trace,
  more: Partial<CoreDialOptions<FakeConn>> = {},
): CoreDialOptions<FakeConn> {
  return {
    resolver: w.resolver,
    dialer: w.dialer,
    clock: w.clock,
    history: false,
    trace,
    ...more,
  };
}

/** Runs the clock out and settles the dial; returns the connection or error. */
async function settle(
  w: World,
  promise: Promise<FakeConn>,
): Promise<{ conn?: FakeConn; error?: unknown }> {
  const seen: { conn?: FakeConn; error?: unknown } = {};
  promise.then((conn) => seen.conn = conn, (error) => seen.error = error);
  await w.clock.runAll();
  await flush();
  assert.ok(
    seen.conn !== undefined || seen.error !== undefined,
    "the dial settled",
  );
  return seen;
}

function assertChildOf(span: ReadableSpan, h: Harness): void {
  const parent = h.parent.spanContext();
  assert.equal(span.parentSpanContext?.spanId, parent.spanId, span.name);
  assert.equal(span.spanContext().traceId, parent.traceId, span.name);
  assert.equal(span.kind, SpanKind.INTERNAL, span.name);
}

function assertAllEnded(h: Harness): void {
  const open = h.started.filter((s) => s.isRecording());
  assert.equal(open.length, 0, "every span the trace started has ended");
}

const TWO_FAMILIES: ResolverScript = {
  "app.test": {
    6: { at: 5, addrs: ["2001:db8::1"] },
    4: { at: 5, addrs: ["192.0.2.1"] },
  },
};

spanTest(
  "openTelemetryTrace() makes one DNS span and one span per attempt, a race loser cancelled",
  async (h) => {
    const w = world(TWO_FAMILIES, {
      "[2001:db8::1]:80": { hang: true },
      "192.0.2.1:80": { after: 20, connect: true },
    });
    const otel = openTelemetryTrace({ tracer: h.tracer, context: h.ctx });
    const { conn } = await settle(w, dial("app.test:80", options(w, otel)));
    assert.equal(conn?.addr, "192.0.2.1:80");
    assert.deepEqual(w.dialer.starts, [
      "[2001:db8::1]:80@5",
      "192.0.2.1:80@255",
    ]);

    const spans = h.spans();
    assert.deepEqual(spans.map((s) => s.name), [
      "DNS lookup app.test",
      "socket connect 192.0.2.1:80",
      "socket connect [2001:db8::1]:80",
    ]);
    for (const span of spans) assertChildOf(span, h);

    const dns = h.span("DNS lookup app.test");
    assert.equal(dns.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(
      { ...dns.attributes, "dns.answers": undefined },
      {
        "dns.question.name": "app.test",
        "server.address": "app.test",
        "server.port": 80,
        "dns.answers": undefined,
        "nettrace.dns.coalesced": false,
        "nettrace.dns.cached": false,
        "nettrace.outcome": "ok",
      },
    );
    assert.deepEqual(
      [...(dns.attributes["dns.answers"] as string[])].sort(),
      ["192.0.2.1", "2001:db8::1"],
    );
    assert.deepEqual(
      dns.events.map((e) => [e.name, e.attributes?.["network.type"]]).sort(),
      [["dns.answer", "ipv4"], ["dns.answer", "ipv6"]],
    );

    const loser = h.span("socket connect [2001:db8::1]:80");
    assert.equal(loser.status.code, SpanStatusCode.UNSET);
    assert.equal(loser.events.length, 0);
    assert.deepEqual(loser.attributes, {
      "server.address": "app.test",
      "server.port": 80,
      "network.peer.address": "2001:db8::1",
      "network.peer.port": 80,
      "network.transport": "tcp",
      "network.type": "ipv6",
      "nettrace.attempt.index": 0,
      "nettrace.attempt.cause": "first",
      "nettrace.outcome": "cancelled",
    });

    const winner = h.span("socket connect 192.0.2.1:80");
    assert.equal(winner.status.code, SpanStatusCode.UNSET);
    assert.equal(winner.attributes["network.type"], "ipv4");
    assert.equal(winner.attributes["nettrace.attempt.index"], 1);
    assert.equal(winner.attributes["nettrace.attempt.cause"], "delay");
    assert.equal(winner.attributes["nettrace.outcome"], "ok");
    assert.equal(winner.attributes["error.type"], undefined);
    assertAllEnded(h);
  },
);

spanTest(
  "openTelemetryTrace() marks a failed attempt ERROR with the errno as error.type",
  async (h) => {
    const w = world(TWO_FAMILIES, {
      "[2001:db8::1]:80": { after: 5, fail: "ECONNREFUSED" },
      "192.0.2.1:80": { after: 5, connect: true },
    });
    const otel = openTelemetryTrace({ tracer: h.tracer, context: h.ctx });
    const { conn } = await settle(w, dial("app.test:80", options(w, otel)));
    assert.equal(conn?.addr, "192.0.2.1:80");

    const failed = h.span("socket connect [2001:db8::1]:80");
    assertChildOf(failed, h);
    assert.equal(failed.status.code, SpanStatusCode.ERROR);
    assert.match(failed.status.message ?? "", /connection refused/);
    assert.equal(failed.attributes["error.type"], "ECONNREFUSED");
    assert.equal(failed.attributes["nettrace.outcome"], "error");
    assert.deepEqual(failed.events.map((e) => e.name), ["exception"]);

    const next = h.span("socket connect 192.0.2.1:80");
    assert.equal(next.attributes["nettrace.attempt.cause"], "failure");
    assert.equal(next.status.code, SpanStatusCode.UNSET);
    assertAllEnded(h);
  },
);

spanTest(
  "openTelemetryTrace() makes no DNS span for an IP literal",
  async (h) => {
    const w = world({}, { "192.0.2.7:8080": { after: 3, connect: true } });
    const otel = openTelemetryTrace({ tracer: h.tracer, context: h.ctx });
    const { conn } = await settle(w, dial("192.0.2.7:8080", options(w, otel)));
    assert.equal(conn?.addr, "192.0.2.7:8080");
    const spans = h.spans();
    assert.deepEqual(spans.map((s) => s.name), [
      "socket connect 192.0.2.7:8080",
    ]);
    assertChildOf(spans[0]!, h);
    assert.equal(spans[0]!.attributes["server.address"], "192.0.2.7");
    assert.equal(spans[0]!.attributes["server.port"], 8080);
    assert.equal(spans[0]!.attributes["network.peer.address"], "192.0.2.7");
    assert.equal(spans[0]!.attributes["nettrace.attempt.cause"], "first");
    assertAllEnded(h);
  },
);

spanTest(
  "openTelemetryTrace() marks a failed lookup ERROR with error.type host_not_found",
  async (h) => {
    const w = world({}, {});
    const otel = openTelemetryTrace({ tracer: h.tracer, context: h.ctx });
    const { error } = await settle(w, dial("nosuch.test:80", options(w, otel)));
    assert.ok(error instanceof DialError);
    const spans = h.spans();
    assert.deepEqual(spans.map((s) => s.name), ["DNS lookup nosuch.test"]);
    const dns = spans[0]!;
    assertChildOf(dns, h);
    assert.equal(dns.status.code, SpanStatusCode.ERROR);
    assert.match(dns.status.message ?? "", /no such host/);
    assert.equal(dns.attributes["error.type"], "host_not_found");
    assert.equal(dns.attributes["nettrace.outcome"], "error");
    assert.equal(dns.attributes["dns.answers"], undefined);
    assert.ok(dns.events.some((e) => e.name === "exception"));
    assertAllEnded(h);
  },
);

spanTest(
  "openTelemetryTrace() ends every span, cancelled and not failed, when the dial is aborted",
  async (h) => {
    const w = world({
      "slow.test": { 6: { at: 5, addrs: ["2001:db8::9"] }, 4: { hang: true } },
    }, {});
    const controller = new AbortController();
    const otel = openTelemetryTrace({ tracer: h.tracer, context: h.ctx });
    const promise = dial(
      "slow.test:80",
      options(w, otel, { signal: controller.signal }),
    );
    const seen: { error?: unknown } = {};
    promise.catch((error) => seen.error = error);
    await w.clock.advance(100);
    assert.equal(h.spans().length, 0, "nothing has ended yet");
    assert.equal(h.started.length, 2, "a DNS span and an attempt span");
    controller.abort(new Error("user gave up"));
    await flush();
    assert.equal((seen.error as Error)?.message, "user gave up");
    const spans = h.spans();
    assert.deepEqual(spans.map((s) => s.name), [
      "DNS lookup slow.test",
      "socket connect [2001:db8::9]:80",
    ]);
    for (const span of spans) {
      assertChildOf(span, h);
      assert.equal(span.status.code, SpanStatusCode.UNSET, span.name);
      assert.equal(span.attributes["error.type"], undefined, span.name);
    }
    // The AAAA answer arrived before the abort: the lookup itself is no error.
    assert.equal(spans[0]!.attributes["nettrace.outcome"], "ok");
    assert.equal(spans[1]!.attributes["nettrace.outcome"], "cancelled");
    assertAllEnded(h);
  },
);

spanTest(
  "openTelemetryTrace() marks a lookup cut by the dial's timeout ERROR with error.type timeout",
  async (h) => {
    const w = world(
      { "stuck.test": { 6: { hang: true }, 4: { hang: true } } },
      {},
    );
    const otel = openTelemetryTrace({ tracer: h.tracer, context: h.ctx });
    const { error } = await settle(
      w,
      dial("stuck.test:80", options(w, otel, { timeout: 100 })),
    );
    assert.equal((error as Error).name, "TimeoutError");
    const dns = h.span("DNS lookup stuck.test");
    assert.equal(dns.status.code, SpanStatusCode.ERROR);
    assert.equal(dns.attributes["error.type"], "timeout");
    assert.equal(h.spans().length, 1);
    assertAllEnded(h);
  },
);

spanTest(
  "openTelemetryTrace() makes a TLS span with the name, ALPN and version",
  async (h) => {
    const w = world({
      "app.test": {
        6: { at: 0, addrs: [] },
        4: { at: 2, addrs: ["192.0.2.1"] },
      },
    }, { "192.0.2.1:443": { after: 5, connect: true } });
    w.dialer.tls = { "192.0.2.1:443": { after: 10, alpn: "h2" } };
    const otel = openTelemetryTrace({ tracer: h.tracer, context: h.ctx });
    const { conn } = await settle(
      w,
      dial(
        "app.test:443",
        options(w, otel, { tls: { alpnProtocols: ["h2", "http/1.1"] } }),
      ),
    );
    assert.equal(conn?.tls?.alpnProtocol, "h2");
    assert.deepEqual(h.spans().map((s) => s.name), [
      "DNS lookup app.test",
      "TLS client handshake app.test",
      "socket connect 192.0.2.1:443",
    ]);
    const tls = h.span("TLS client handshake app.test");
    assertChildOf(tls, h);
    assert.equal(tls.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(tls.attributes, {
      "server.address": "app.test",
      "network.peer.address": "192.0.2.1",
      "network.peer.port": 443,
      "network.transport": "tcp",
      "network.type": "ipv4",
      "nettrace.attempt.index": 0,
      "tls.next_protocol": "h2",
      "tls.protocol.name": "tls",
      "tls.protocol.version": "1.3",
      "nettrace.outcome": "ok",
    });
    assertAllEnded(h);
  },
);

spanTest(
  "openTelemetryTrace() marks a failed handshake ERROR with the TLSError kind",
  async (h) => {
    const w = world({}, { "192.0.2.1:443": { after: 5, connect: true } });
    w.dialer.tls = { "192.0.2.1:443": { after: 10, fail: "untrusted" } };
    const otel = openTelemetryTrace({ tracer: h.tracer, context: h.ctx });
    const { error } = await settle(
      w,
      dial(
        "192.0.2.1:443",
        options(w, otel, { tls: { serverName: "api.test" } }),
      ),
    );
    assert.ok(error instanceof DialError);
    const tls = h.span("TLS client handshake api.test");
    assert.equal(tls.status.code, SpanStatusCode.ERROR);
    assert.equal(tls.attributes["error.type"], "untrusted");
    assert.equal(tls.attributes["nettrace.outcome"], "error");
    assert.ok(tls.events.some((e) => e.name === "exception"));
    // The TCP connect itself worked.
    const connect = h.span("socket connect 192.0.2.1:443");
    assert.equal(connect.status.code, SpanStatusCode.UNSET);
    assertAllEnded(h);
  },
);

spanTest(
  "openTelemetryTrace() marks a handshake that lost the race (successPoint tls) cancelled",
  async (h) => {
    const w = world(TWO_FAMILIES, {
      "[2001:db8::1]:443": { after: 5, connect: true },
      "192.0.2.1:443": { after: 5, connect: true },
    });
    w.dialer.tls = {
      "[2001:db8::1]:443": { hang: true },
      "192.0.2.1:443": { after: 10 },
    };
    const otel = openTelemetryTrace({ tracer: h.tracer, context: h.ctx });
    const { conn } = await settle(
      w,
      dial("app.test:443", options(w, otel, { tls: { successPoint: "tls" } })),
    );
    assert.equal(conn?.addr, "192.0.2.1:443");
    const tlsSpans = h.spans().filter((s) => s.name.startsWith("TLS"));
    assert.equal(tlsSpans.length, 2);
    const byAttempt = new Map(
      tlsSpans.map((s) => [s.attributes["nettrace.attempt.index"], s]),
    );
    assert.equal(byAttempt.get(0)!.attributes["nettrace.outcome"], "cancelled");
    assert.equal(byAttempt.get(0)!.status.code, SpanStatusCode.UNSET);
    assert.equal(byAttempt.get(0)!.attributes["error.type"], undefined);
    assert.equal(byAttempt.get(1)!.attributes["nettrace.outcome"], "ok");
    for (const span of h.spans()) assertChildOf(span, h);
    assertAllEnded(h);
  },
);

spanTest(
  "openTelemetryTrace() can serve a second dial once the first is done",
  async (h) => {
    const w = world(TWO_FAMILIES, {
      "[2001:db8::1]:80": { after: 1, connect: true },
    });
    const otel = openTelemetryTrace({ tracer: h.tracer, context: h.ctx });
    await settle(w, dial("app.test:80", options(w, otel)));
    await settle(w, dial("app.test:80", options(w, otel)));
    const spans = h.spans();
    assert.deepEqual(spans.map((s) => s.name), [
      "DNS lookup app.test",
      "DNS lookup app.test",
      "socket connect [2001:db8::1]:80",
      "socket connect [2001:db8::1]:80",
    ]);
    for (const span of spans) assertChildOf(span, h);
    assertAllEnded(h);
  },
);

spanTest(
  "withOpenTelemetry() leaves no span open when dialDone fires, whatever the dial's end",
  async (h) => {
    const traced = withOpenTelemetry(dial, {
      tracer: h.tracer,
      context: h.ctx,
    });
    const open: string[] = [];
    const scenarios: [
      string,
      () => World,
      Partial<CoreDialOptions<FakeConn>>,
    ][] = [
      ["a race with a loser", () =>
        world(TWO_FAMILIES, {
          "[2001:db8::1]:80": { hang: true },
          "192.0.2.1:80": { after: 20, connect: true },
        }), {}],
      ["a failed lookup", () => world({}, {}), {}],
      ["a timeout", () =>
        world({
          "app.test": {
            6: { at: 1, addrs: ["2001:db8::1"] },
            4: { hang: true },
          },
        }, {}), { timeout: 300 }],
      ["a failed handshake", () => {
        const w = world(TWO_FAMILIES, {
          "[2001:db8::1]:80": { after: 2, connect: true },
        });
        w.dialer.tls = { "[2001:db8::1]:80": { after: 3, fail: "hostname" } };
        return w;
      }, { tls: {} }],
      ["a handshake cut by the timeout", () => {
        const w = world(TWO_FAMILIES, {
          "[2001:db8::1]:80": { after: 2, connect: true },
        });
        w.dialer.tls = { "[2001:db8::1]:80": { hang: true } };
        return w;
      }, { tls: {}, timeout: 50 }],
    ];
    let dialDones = 0;
    for (const [what, make, more] of scenarios) {
      const w = make();
      const check: Trace = {
        dialDone: () => {
          dialDones++;
          const recording = h.started.filter((s) => s.isRecording()).length;
          if (recording > 0) open.push(`${what}: ${recording} open`);
        },
      };
      await settle(
        w,
        traced("app.test:80", {
          resolver: w.resolver,
          dialer: w.dialer,
          clock: w.clock,
          history: false,
          trace: check,
          ...more,
        }),
      );
    }
    assert.equal(dialDones, scenarios.length, "the caller's trace still runs");
    assert.deepEqual(open, []);
    assert.ok(h.started.length >= scenarios.length);
    assertAllEnded(h);
    const handshake = h.spans().filter((s) =>
      s.name === "TLS client handshake app.test"
    );
    assert.deepEqual(
      handshake.map((s) => s.attributes["error.type"]).sort(),
      ["hostname", "timeout"],
    );
  },
);

test("withOpenTelemetry() puts a real loopback dial's spans under the active span", async () => {
  const server = await startEchoServer();
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  trace.setGlobalTracerProvider(provider);
  try {
    const runtime = "Deno" in globalThis
      ? "../runtimes/deno.ts"
      : "Bun" in globalThis
      ? "../runtimes/bun.ts"
      : "../runtimes/node.ts";
    const adapter = await import(runtime) as {
      dial(address: string, options?: DialOptions): Promise<{ close(): void }>;
    };
    const traced = withOpenTelemetry(adapter.dial);
    const seen: string[] = [];
    const parentId = await trace.getTracer("app").startActiveSpan(
      "request",
      async (span) => {
        await Promise.resolve(); // the active context survives an await
        const conn = await traced(`127.0.0.1:${server.port}`, {
          trace: { connectDone: ({ addr }) => seen.push(addr) },
        });
        conn.close();
        span.end();
        return span.spanContext().spanId;
      },
    );
    await server.until(() => server.eofs >= 1);
    assert.deepEqual(seen, [`127.0.0.1:${server.port}`]);
    const spans = exporter.getFinishedSpans().filter((s) =>
      s.name !== "request"
    );
    assert.deepEqual(spans.map((s) => s.name), [
      `socket connect 127.0.0.1:${server.port}`,
    ]);
    const connect = spans[0]!;
    assert.equal(connect.parentSpanContext?.spanId, parentId);
    assert.equal(connect.status.code, SpanStatusCode.UNSET);
    assert.equal(connect.attributes["network.peer.port"], server.port);
    assert.equal(connect.attributes["nettrace.outcome"], "ok");
    assert.equal(connect.instrumentationScope.name, "@nettrace/nettrace");
    const denoJson = JSON.parse(
      readFileSync(new URL("../deno.json", import.meta.url), "utf8"),
    ) as { version: string };
    assert.equal(connect.instrumentationScope.version, denoJson.version);
  } finally {
    trace.disable();
    context.disable();
    await provider.forceFlush();
    await provider.shutdown();
    await server.close();
  }
});

spanTest(
  "openTelemetryTrace() ends at dialDone the spans whose done hooks have not fired, and ignores late ones",
  (h) => {
    const otel = openTelemetryTrace({ tracer: h.tracer, context: h.ctx });
    const attempt = {
      network: "tcp",
      addr: "192.0.2.1:443",
      family: 4,
      attempt: 0,
    } as const;
    otel.dialStart!({ network: "tcp", address: "hooks.test:443" });
    otel.dnsStart!({ host: "hooks.test" });
    otel.connectStart!({ ...attempt, cause: "first" });
    otel.tlsHandshakeStart!({ ...attempt, serverName: "hooks.test" });
    assert.equal(h.started.length, 3);
    assert.equal(h.spans().length, 0);
    otel.dialDone!({
      network: "tcp",
      address: "hooks.test:443",
      error: new Error("gave up"),
    });
    assertAllEnded(h);
    const spans = h.spans();
    assert.deepEqual(spans.map((s) => s.name), [
      "DNS lookup hooks.test",
      "TLS client handshake hooks.test",
      "socket connect 192.0.2.1:443",
    ]);
    for (const span of spans) {
      assertChildOf(span, h);
      assert.equal(span.attributes["nettrace.outcome"], "cancelled", span.name);
      assert.equal(span.status.code, SpanStatusCode.UNSET, span.name);
    }
    // Done hooks after dialDone find nothing open: no span changes or starts.
    otel.connectDone!({
      ...attempt,
      error: new SyscallError("connect", "ECONNREFUSED"),
    });
    otel.dnsDone!({
      host: "hooks.test",
      addrs: [],
      coalesced: false,
      cached: false,
      error: new Error("late"),
    });
    assert.equal(h.started.length, 3);
    assert.equal(h.spans().length, 3);
    assert.equal(
      h.span("socket connect 192.0.2.1:443").attributes["error.type"],
      undefined,
    );
  },
);

spanTest(
  "openTelemetryTrace() names a service target's answer on the DNS span's events (HEv3)",
  (h) => {
    const otel = openTelemetryTrace({ tracer: h.tracer, context: h.ctx });
    otel.dialStart?.({ network: "tcp", address: "svc.test:443" });
    otel.dnsStart?.({ host: "svc.test" });
    otel.dnsAnswer?.({
      host: "svc.test",
      family: "service",
      name: "svc.test",
      addrs: [],
      records: [{ priority: 1, target: "pool.svc.test" }],
      coalesced: false,
      cached: false,
    });
    otel.dnsAnswer?.({
      host: "svc.test",
      family: 6,
      name: "pool.svc.test",
      addrs: [{ address: "2001:db8::7", family: 6 }],
      coalesced: false,
      cached: false,
    });
    otel.dnsAnswer?.({
      host: "svc.test",
      family: 4,
      addrs: [{ address: "192.0.2.7", family: 4 }],
      coalesced: false,
      cached: false,
    });
    otel.dnsDone?.({
      host: "svc.test",
      addrs: [{ address: "192.0.2.7", family: 4 }],
      coalesced: false,
      cached: false,
    });
    const dns = h.span("DNS lookup svc.test");
    assert.deepEqual(
      dns.events.map((e) => [
        e.name,
        e.attributes?.["network.type"],
        e.attributes?.["dns.question.name"],
      ]),
      [
        ["nettrace.dns.service", undefined, "svc.test"],
        ["dns.answer", "ipv6", "pool.svc.test"],
        ["dns.answer", "ipv4", undefined],
      ],
    );
    assert.equal(dns.events[0]!.attributes?.["nettrace.dns.service.count"], 1);
  },
);
