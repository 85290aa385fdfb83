// createFetch on Deno, Bun and Node: real servers on loopback (HTTP/1.1,
// HTTPS, HTTP/2, interim responses), names from the DNS fixture, and the
// exact HTTPTrace hook sequence of each case.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  background,
  createResolver,
  runWithContext,
  setHookErrorHandler,
  withTrace,
} from "../runtimes/node.ts";
import {
  createFetch,
  fetch as sharedFetch,
  type HTTPTrace,
} from "../integrations/fetch.ts";
import { startDnsServer } from "./_dns_server.ts";
import {
  type Handler,
  startH2Server,
  startHttpServer,
  TEST_CA,
} from "./_http_fixtures.ts";
import {
  answerBody,
  freshExchange,
  logTrace,
  settle,
  using,
} from "./_fetch_helpers.ts";

test("createFetch() fires the hooks of a fresh HTTP/1.1 connection in Go's order", async () => {
  const server = await startHttpServer();
  const dns = await startDnsServer({
    zone: { "app.test": { A: ["127.0.0.1"] } },
  });
  const fetch = createFetch({
    resolver: createResolver({ nameServer: dns.nameServer }),
  });
  await using([server, dns], fetch, async () => {
    const log: string[] = [];
    const url = `http://app.test:${server.port}/a`;
    const response = await fetch(url, { trace: logTrace(log) });
    assert.equal(await response.text(), "GET /a");
    const ep = `127.0.0.1:${server.port}`;
    assert.deepEqual(log, [
      `getConn app.test:${server.port} #0`,
      "dnsStart app.test",
      "dnsDone 127.0.0.1",
      ...freshExchange(ep),
    ]);
  });
});

test("createFetch() reuses an idle keep-alive connection: gotConn reused, wasIdle, idleTime > 0, no dial", async () => {
  const server = await startHttpServer();
  const fetch = createFetch();
  await using([server], fetch, async () => {
    const url = `http://127.0.0.1:${server.port}/`;
    const first: Record<string, unknown>[] = [];
    await (await fetch(url, {
      trace: { gotConn: (i) => first.push({ ...i }) },
    }))
      .text();
    await settle();
    const log: string[] = [];
    const got: Record<string, unknown>[] = [];
    const trace = logTrace(log);
    const gotConn = trace.gotConn!;
    trace.gotConn = (info) => {
      got.push({ ...info });
      gotConn(info);
    };
    await (await fetch(url, { trace })).text();
    assert.deepEqual(log, [
      `getConn 127.0.0.1:${server.port} #0`,
      "gotConn reused=true wasIdle=true alpn=null",
      "wroteHeaders",
      "wroteRequest",
      "gotFirstResponseByte",
      "putIdleConn",
    ]);
    assert.ok((got[0].idleTime as number) > 0);
    assert.deepEqual(got[0].localAddr, first[0].localAddr);
    assert.deepEqual(got[0].remoteAddr, {
      hostname: "127.0.0.1",
      port: server.port,
    });
    assert.equal(server.connections, 1);
  });
});

test("createFetch() fires wroteHeaderField per request header, as written", async () => {
  const server = await startHttpServer();
  const fetch = createFetch();
  await using([server], fetch, async () => {
    const fields: string[] = [];
    await (await fetch(`http://127.0.0.1:${server.port}/h`, {
      headers: { "x-one": "1" },
      trace: {
        wroteHeaderField: ({ key, value }) => fields.push(`${key}=${value}`),
      },
    })).text();
    assert.equal(fields[0], `host=127.0.0.1:${server.port}`);
    assert.ok(fields.includes("x-one=1"), fields.join(" "));
    assert.ok(fields.includes("connection=keep-alive"), fields.join(" "));
  });
});

test("createFetch() over TLS with HTTP/2: the handshake hooks, alpn h2, no putIdleConn", async () => {
  const server = await startH2Server();
  const fetch = createFetch({ caCerts: [TEST_CA] });
  await using([server], fetch, async () => {
    const log: string[] = [];
    const url = `https://localhost:${server.port}/x`;
    const response = await fetch(url, { trace: logTrace(log) });
    assert.equal(await response.text(), "GET /x");
    const dial = log.filter((l) =>
      !l.startsWith("connect") && !l.startsWith("dns")
    );
    assert.deepEqual(dial, [
      `getConn localhost:${server.port} #0`,
      "tlsHandshakeStart localhost",
      "tlsHandshakeDone h2",
      "gotConn reused=false wasIdle=false alpn=h2",
      "wroteHeaders",
      "wroteRequest",
      "gotFirstResponseByte",
    ]);
  });
});

test("createFetch() on an idle HTTP/2 connection: a new stream, reused and idle, no dial", async () => {
  const server = await startH2Server();
  const fetch = createFetch({ caCerts: [TEST_CA] });
  await using([server], fetch, async () => {
    const url = `https://127.0.0.1:${server.port}/`;
    await (await fetch(url)).text();
    await settle();
    const log: string[] = [];
    let idleTime = -1;
    const trace = logTrace(log);
    const gotConn = trace.gotConn!;
    trace.gotConn = (info) => {
      idleTime = info.idleTime;
      gotConn(info);
    };
    await (await fetch(url, { trace })).text();
    assert.deepEqual(log, [
      `getConn 127.0.0.1:${server.port} #0`,
      "gotConn reused=true wasIdle=true alpn=h2",
      "wroteHeaders",
      "wroteRequest",
      "gotFirstResponseByte",
    ]);
    assert.ok(idleTime > 0, String(idleTime));
    assert.equal(server.connections, 1);
  });
});

test("createFetch() multiplexes HTTP/2: a second stream on the busy connection is reused, not idle", async () => {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const holding = new Promise<void>((resolve) => (arrived = resolve));
  const handler: Handler = (req, res) => {
    if (req.url === "/hold") {
      arrived();
      held.then(() => res.end("held"));
    } else res.end("fast");
  };
  const server = await startH2Server(handler);
  const fetch = createFetch({ caCerts: [TEST_CA] });
  await using([server], fetch, async () => {
    const base = `https://127.0.0.1:${server.port}`;
    const conns: string[] = [];
    const slow = fetch(`${base}/hold`, {
      trace: {
        gotConn: ({ reused, wasIdle }) =>
          conns.push(`hold ${reused} ${wasIdle}`),
      },
    });
    await holding;
    const dials: string[] = [];
    const fast = await fetch(`${base}/fast`, {
      trace: {
        connectStart: ({ addr }) => dials.push(addr),
        gotConn: ({ reused, wasIdle, alpnProtocol }) =>
          conns.push(`fast ${reused} ${wasIdle} ${alpnProtocol}`),
      },
    });
    assert.equal(await fast.text(), "fast");
    release();
    assert.equal(await (await slow).text(), "held");
    assert.deepEqual(conns, ["hold false false", "fast true false h2"]);
    assert.deepEqual(dials, []);
    assert.equal(server.connections, 1);
  });
});

test("createFetch() follows a redirect: each hop is an attempt with its own getConn … gotFirstResponseByte", async () => {
  const handler: Handler = (req, res) => {
    if (req.url === "/from") {
      res.statusCode = 302;
      res.setHeader("location", "/to");
      res.end();
    } else res.end(`at ${req.url}`);
  };
  const server = await startHttpServer(handler);
  const fetch = createFetch();
  await using([server], fetch, async () => {
    const log: string[] = [];
    const trace: HTTPTrace = {
      getConn: ({ attempt }) => log.push(`getConn #${attempt}`),
      gotConn: ({ attempt }) => log.push(`gotConn #${attempt}`),
      wroteRequest: ({ attempt }) => log.push(`wroteRequest #${attempt}`),
      gotFirstResponseByte: ({ attempt }) => log.push(`firstByte #${attempt}`),
    };
    const response = await fetch(`http://127.0.0.1:${server.port}/from`, {
      trace,
    });
    assert.equal(await response.text(), "at /to");
    assert.equal(response.redirected, true);
    assert.deepEqual(log, [
      "getConn #0",
      "gotConn #0",
      "wroteRequest #0",
      "firstByte #0",
      "getConn #1",
      "gotConn #1",
      "wroteRequest #1",
      "firstByte #1",
    ]);
  });
});

// An unsolicited 100 Continue on HTTP/1.1 fails the request in undici 8
// ("bad response"), so 100 is tested on HTTP/2 (expect: 100-continue).
test("createFetch() reports 103 Early Hints before the response, with their headers", async () => {
  const handler: Handler = (_req, res) => {
    const r = res as import("node:http").ServerResponse;
    r.writeEarlyHints({ link: "</style.css>; rel=preload; as=style" });
    r.end("done");
  };
  const server = await startHttpServer(handler);
  const fetch = createFetch();
  await using([server], fetch, async () => {
    const log: string[] = [];
    let link: string | null = null;
    const trace = logTrace(log);
    const got1xx = trace.got1xxResponse!;
    trace.got1xxResponse = (info) => {
      if (info.status === 103) link = info.headers.get("link");
      got1xx(info);
    };
    const response = await fetch(`http://127.0.0.1:${server.port}/`, { trace });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "done");
    assert.equal(link, "</style.css>; rel=preload; as=style");
    assert.deepEqual(log.slice(1), [
      `connectStart 127.0.0.1:${server.port}`,
      `connectDone 127.0.0.1:${server.port}`,
      "gotConn reused=false wasIdle=false alpn=null",
      "wroteHeaders",
      "wroteRequest",
      "gotFirstResponseByte",
      "got1xxResponse 103",
      "putIdleConn",
    ]);
  });
});

test("createFetch() does not put a connection the server closes back: no putIdleConn, a new connection next", async () => {
  const handler: Handler = (_req, res) => {
    res.setHeader("connection", "close");
    res.end("bye");
  };
  const server = await startHttpServer(handler);
  const fetch = createFetch();
  await using([server], fetch, async () => {
    const url = `http://127.0.0.1:${server.port}/`;
    for (let i = 0; i < 2; i++) {
      const log: string[] = [];
      await (await fetch(url, { trace: logTrace(log) })).text();
      await settle();
      assert.deepEqual(log.slice(1), [
        `connectStart 127.0.0.1:${server.port}`,
        `connectDone 127.0.0.1:${server.port}`,
        "gotConn reused=false wasIdle=false alpn=null",
        "wroteHeaders",
        "wroteRequest",
        "gotFirstResponseByte",
      ]);
    }
    assert.equal(server.connections, 2);
  });
});

test("createFetch() composes init.trace, options.trace and the ambient context's, newest first", async () => {
  const server = await startHttpServer();
  const order: string[] = [];
  const fetch = createFetch({
    trace: { gotConn: () => order.push("options") },
  });
  await using([server], fetch, async () => {
    const ctx = withTrace(background, {
      gotConn: () => order.push("ambient"),
    } as HTTPTrace);
    await runWithContext(ctx, async () => {
      const response = await fetch(`http://127.0.0.1:${server.port}/`, {
        trace: { gotConn: () => order.push("init") },
      });
      await response.text();
    });
    assert.deepEqual(order, ["init", "options", "ambient"]);
  });
});

test("createFetch() sends a request body and fires wroteRequest after it", async () => {
  const server = await startHttpServer(answerBody);
  const fetch = createFetch();
  await using([server], fetch, async () => {
    const log: string[] = [];
    const response = await fetch(`http://127.0.0.1:${server.port}/`, {
      method: "POST",
      body: "hello",
      trace: logTrace(log),
    });
    assert.equal(await response.text(), "got hello");
    assert.deepEqual(log.slice(3), [
      "gotConn reused=false wasIdle=false alpn=null",
      "wroteHeaders",
      "wroteRequest",
      "gotFirstResponseByte",
      "putIdleConn",
    ]);
  });
});

test("createFetch() with expect: 100-continue on HTTP/2 waits for the 100 before the body", async () => {
  const server = await startH2Server(answerBody);
  const fetch = createFetch({ caCerts: [TEST_CA] });
  await using([server], fetch, async () => {
    const log: string[] = [];
    const response = await fetch(`https://127.0.0.1:${server.port}/`, {
      method: "PUT",
      body: "payload",
      headers: { expect: "100-continue" },
      trace: logTrace(log),
    });
    assert.equal(await response.text(), "got payload");
    const from = log.indexOf("wroteHeaders");
    assert.deepEqual(log.slice(from), [
      "wroteHeaders",
      "wait100Continue",
      // the 100 is the first byte of the response (Go's rule)
      "gotFirstResponseByte",
      "got100Continue",
      "got1xxResponse 100",
      "wroteRequest",
    ]);
  });
});

test("createFetch() takes a Request of the runtime's own fetch as input", async () => {
  const server = await startHttpServer(answerBody);
  const fetch = createFetch();
  await using([server], fetch, async () => {
    const request = new Request(`http://127.0.0.1:${server.port}/r`, {
      method: "POST",
      body: "from a Request",
    });
    const response = await fetch(request);
    assert.equal(await response.text(), "got from a Request");
  });
});

test("createFetch(): a hook that throws is reported and the request goes on", async () => {
  const server = await startHttpServer();
  const fetch = createFetch();
  const reported: string[] = [];
  const previous = setHookErrorHandler((_error, hook) => reported.push(hook));
  try {
    await using([server], fetch, async () => {
      const response = await fetch(`http://127.0.0.1:${server.port}/t`, {
        trace: {
          gotConn: () => {
            throw new Error("hook bug");
          },
          wroteHeaders: () => Promise.reject(new Error("async hook bug")),
        },
      });
      assert.equal(await response.text(), "GET /t");
      await settle();
    });
  } finally {
    setHookErrorHandler(previous);
  }
  assert.deepEqual(reported, ["gotConn", "wroteHeaders"]);
});

test("createFetch() without any trace dials and answers as fetch", async () => {
  const server = await startHttpServer();
  const fetch = createFetch();
  await using([server], fetch, async () => {
    const response = await fetch(`http://127.0.0.1:${server.port}/plain`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "GET /plain");
  });
});

test("fetch (the ready one) dials through nettrace, fires init.trace, and close() ends its pool so the next request makes a new one", async () => {
  const server = await startHttpServer();
  await using([server], sharedFetch, async () => {
    const url = `http://127.0.0.1:${server.port}/r`;
    for (const round of [1, 2]) {
      const log: string[] = [];
      const response = await sharedFetch(url, { trace: logTrace(log) });
      assert.equal(await response.text(), "GET /r");
      assert.equal(
        log[0],
        `getConn 127.0.0.1:${server.port} #0`,
        String(round),
      );
      assert.ok(
        log.includes(`connectStart 127.0.0.1:${server.port}`),
        log.join("\n"),
      );
      // A new pool after close(): the second round dials again.
      await sharedFetch.close();
    }
  });
});
