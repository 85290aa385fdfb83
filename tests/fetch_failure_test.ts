// createFetch when things go wrong, on Deno, Bun and Node: a refused
// connect, a failed handshake, a reused connection the server closed (Go's
// retry), and an abort at each phase — the exact hooks of each.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { createResolver, DialError, TLSError } from "../runtimes/node.ts";
import { createFetch, type HTTPTrace } from "../integrations/fetch.ts";
import { startDnsServer } from "./_dns_server.ts";
import { startHttpServer, TEST_CA } from "./_http_fixtures.ts";
import { closedPort, startHangingListener } from "./_tcp_fixtures.ts";
import {
  freshExchange,
  hookFired,
  logTrace,
  using,
  withIdleConnToBeClosed,
} from "./_fetch_helpers.ts";

test("createFetch() rejects a refused connect with fetch's TypeError whose cause is the DialError", async () => {
  const port = await closedPort();
  const fetch = createFetch();
  await using([], fetch, async () => {
    const log: string[] = [];
    const error = await fetch(`http://127.0.0.1:${port}/`, {
      trace: logTrace(log),
    }).then(() => assert.fail("fetch resolved"), (e: unknown) => e);
    assert.ok(error instanceof TypeError, String(error));
    assert.ok(error.cause instanceof DialError, String(error.cause));
    assert.match(
      (error.cause as DialError).message,
      new RegExp(
        `dial tcp 127\\.0\\.0\\.1:${port}: connect: connection refused`,
      ),
    );
    assert.deepEqual(log, [
      `getConn 127.0.0.1:${port} #0`,
      `connectStart 127.0.0.1:${port}`,
      `connectDone 127.0.0.1:${port} error`,
    ]);
  });
});

test("createFetch() fails a handshake with an untrusted certificate: cause DialError with a TLSError", async () => {
  const server = await startHttpServer(undefined, {
    tls: true,
    cert: "untrusted",
  });
  const fetch = createFetch({ caCerts: [TEST_CA] });
  await using([server], fetch, async () => {
    const log: string[] = [];
    const error = await fetch(`https://localhost:${server.port}/`, {
      trace: logTrace(log),
    }).then(() => assert.fail("fetch resolved"), (e: unknown) => e);
    assert.ok(error instanceof TypeError, String(error));
    const cause = (error as TypeError).cause;
    assert.ok(cause instanceof DialError, String(cause));
    const tls = (cause as DialError).errors.map((e) => (e as Error).cause)
      .find((c) => c instanceof TLSError);
    assert.ok(tls instanceof TLSError, String(cause));
    assert.ok(log.includes("tlsHandshakeDone error"), log.join("\n"));
    assert.ok(!log.some((l) => l.startsWith("gotConn")), log.join("\n"));
    assert.ok(!log.some((l) => l.startsWith("wroteRequest")), log.join("\n"));
  });
});

test("createFetch() retries a GET whose reused connection the server closed: a new attempt, as Go's transport", async () => {
  await withIdleConnToBeClosed(async (fetch, server) => {
    const url = `http://127.0.0.1:${server.port}`;
    const log: string[] = [];
    let retryOf: Error | undefined;
    const trace = logTrace(log);
    const getConn = trace.getConn!;
    trace.getConn = (info) => {
      retryOf ??= info.retryOf;
      getConn(info);
    };
    const response = await fetch(`${url}/2`, { trace });
    assert.equal(await response.text(), "ok /2");
    const ep = `127.0.0.1:${server.port}`;
    assert.deepEqual(log, [
      `getConn ${ep} #0`,
      "gotConn reused=true wasIdle=true alpn=null",
      "wroteHeaders",
      "wroteRequest",
      `getConn ${ep} #1`,
      ...freshExchange(ep),
    ]);
    assert.equal(
      (retryOf as { code?: string } | undefined)?.code,
      "UND_ERR_SOCKET",
    );
    assert.equal(server.connections, 2);
  });
});

test("createFetch() does not retry a POST on a closed reused connection: the error is fetch's", async () => {
  await withIdleConnToBeClosed(async (fetch, server) => {
    const url = `http://127.0.0.1:${server.port}/`;
    const attempts: number[] = [];
    const wrote: string[] = [];
    const error = await fetch(url, {
      method: "POST",
      body: "x",
      trace: {
        getConn: ({ attempt }) => attempts.push(attempt),
        wroteRequest: ({ attempt, error }) =>
          wrote.push(`#${attempt} ${error === undefined ? "ok" : "error"}`),
      },
    }).then(() => assert.fail("fetch resolved"), (e: unknown) => e);
    assert.ok(error instanceof TypeError, String(error));
    assert.deepEqual(attempts, [0]);
    assert.equal(wrote.length, 1, wrote.join(" ")); // never twice
  });
});

test("createFetch() aborted during DNS rejects with the reason and fires no gotConn", async () => {
  const dns = await startDnsServer({ zone: { "slow.test": { drop: true } } });
  const fetch = createFetch({
    resolver: createResolver({ nameServer: dns.nameServer }),
  });
  await using([dns], fetch, async () => {
    const log: string[] = [];
    const controller = new AbortController();
    const pending = fetch("http://slow.test:80/", {
      signal: controller.signal,
      trace: logTrace(log),
    });
    await dns.nextQuery();
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(pending, (e) => e === reason);
    assert.deepEqual(log, ["getConn slow.test:80 #0", "dnsStart slow.test"]);
  });
});

test("createFetch() aborted during the connect rejects with the reason; close() ends the dial of a name", async () => {
  const listener = await startHangingListener();
  const dns = await startDnsServer({
    zone: { "hang.test": { A: ["127.0.0.1"] } },
  });
  const fetch = createFetch({
    resolver: createResolver({ nameServer: dns.nameServer }),
  });
  await using([listener, dns], fetch, async () => {
    const log: string[] = [];
    const controller = new AbortController();
    const trace = logTrace(log);
    const started = hookFired(trace, "connectStart");
    const pending = fetch(`http://hang.test:${listener.port}/`, {
      signal: controller.signal,
      trace,
    });
    await started;
    controller.abort(new Error("stop"));
    await assert.rejects(pending, { message: "stop" });
    const ep = `127.0.0.1:${listener.port}`;
    assert.deepEqual(log, [
      `getConn hang.test:${listener.port} #0`,
      "dnsStart hang.test",
      "dnsDone 127.0.0.1",
      `connectStart ${ep}`,
    ]);
    // The dial goes on for the pool (as Go's) until close() aborts it.
    const done = hookFired(trace, "connectDone");
    await fetch.close();
    await done;
    assert.equal(log.at(-1), `connectDone ${ep} error`);
  });
});

test("createFetch(): a dial of an IP literal in flight at close() runs to its timeout", async () => {
  const listener = await startHangingListener();
  const fetch = createFetch({ timeout: 100 });
  await using([listener], fetch, async () => {
    const errors: string[] = [];
    const trace: HTTPTrace = {
      dialDone: ({ error }) => errors.push(error?.message ?? "ok"),
    };
    const started = hookFired(trace, "connectStart");
    const done = hookFired(trace, "dialDone");
    const controller = new AbortController();
    const pending = fetch(`http://127.0.0.1:${listener.port}/`, {
      signal: controller.signal,
      trace,
    });
    await started;
    controller.abort(new Error("stop"));
    await assert.rejects(pending, { message: "stop" });
    await fetch.close();
    await done;
    assert.deepEqual(errors, [
      `dial tcp 127.0.0.1:${listener.port}: i/o timeout`,
    ]);
  });
});

test("createFetch() aborted while waiting for the response: wroteRequest once, no first byte", async () => {
  let arrived!: () => void;
  const waiting = new Promise<void>((resolve) => (arrived = resolve));
  const server = await startHttpServer(() => arrived());
  const fetch = createFetch();
  await using([server], fetch, async () => {
    const log: string[] = [];
    const controller = new AbortController();
    const pending = fetch(`http://127.0.0.1:${server.port}/`, {
      signal: controller.signal,
      trace: logTrace(log),
    });
    await waiting;
    controller.abort(new Error("stop"));
    await assert.rejects(pending, { message: "stop" });
    assert.deepEqual(log.slice(3), [
      "gotConn reused=false wasIdle=false alpn=null",
      "wroteHeaders",
      "wroteRequest",
    ]);
  });
});

// undici 8's own fetch on Deno 2.9 never errors the body of a response
// aborted mid-body (nor settles it): the same with a plain undici Agent.
const ABORT_BODY_SKIP = "Deno" in globalThis
  ? "undici's fetch on Deno never settles an aborted body"
  : false;

test(
  "createFetch() aborted while reading the body errors the body, after gotFirstResponseByte",
  {
    skip: ABORT_BODY_SKIP,
  },
  async () => {
    const server = await startHttpServer((_req, res) => {
      res.setHeader("content-length", "10");
      (res as import("node:http").ServerResponse).write("12345");
    });
    const fetch = createFetch();
    await using([server], fetch, async () => {
      const log: string[] = [];
      const controller = new AbortController();
      const response = await fetch(`http://127.0.0.1:${server.port}/`, {
        signal: controller.signal,
        trace: logTrace(log),
      });
      controller.abort(new Error("stop"));
      await assert.rejects(response.text(), { message: "stop" });
      assert.deepEqual(log.slice(3), [
        "gotConn reused=false wasIdle=false alpn=null",
        "wroteHeaders",
        "wroteRequest",
        "gotFirstResponseByte",
      ]);
    });
  },
);
