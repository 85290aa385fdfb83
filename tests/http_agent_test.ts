// HttpAgent / HttpsAgent (@nettrace/nettrace/http-agent) with node:http and
// node:https on Node, Bun and Deno, against loopback servers; names come
// from an in-test resolver (nothing leaves the process).

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import {
  background,
  DialError,
  DNSError,
  type Family,
  type IPAddr,
  type Resolver,
  runWithContext,
  setHookErrorHandler,
  type Trace,
  withTrace,
} from "../runtimes/node.ts";
import type {
  GotConnInfo,
  HTTPTrace,
} from "../integrations/_fetch/http_trace.ts";
import { HttpAgent, HttpsAgent } from "../integrations/http_agent.ts";
import { closedPort, startHangingListener } from "./_tcp_fixtures.ts";
import { TEST_CA } from "./_tls_fixtures.ts";

const onBun = "Bun" in globalThis;
const TLS_DIR = new URL("./fixtures/tls/", import.meta.url);
const KEY = readFileSync(new URL("server.key", TLS_DIR), "utf8");
const CERT = readFileSync(new URL("server.pem", TLS_DIR), "utf8");

/** web.test and tls.test: ::1 (refused) and 127.0.0.1 (listening). */
const resolver: Resolver = {
  lookup(host: string, family: Family): Promise<IPAddr[]> {
    if (host !== "web.test" && host !== "tls.test") {
      return Promise.reject(
        new DNSError("no such host", host, { isNotFound: true }),
      );
    }
    return Promise.resolve(
      family === 6
        ? [{ address: "::1", family: 6 }]
        : [{ address: "127.0.0.1", family: 4 }],
    );
  },
};

interface Served {
  port: number;
  close(): Promise<void>;
}

async function serve(server: http.Server | https.Server): Promise<Served> {
  await new Promise<void>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve())
  );
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const handler: http.RequestListener = (req, res) => {
  const alpn = (req.socket as { alpnProtocol?: string | false }).alpnProtocol;
  res.end(`${req.socket.remotePort} ${alpn || "-"}`);
};

function get(
  mod: typeof http | typeof https,
  url: string,
  options: http.RequestOptions & https.RequestOptions,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = mod.get(url, options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => body += d);
      res.on("end", () => resolve(body));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

test("HttpAgent: a keep-alive agent dials once by name and reuses the socket", async () => {
  const server = await serve(http.createServer(handler));
  const connects: string[] = [];
  const trace: Trace = {
    connectDone: ({ addr, error }) =>
      connects.push(`${addr} ${error ? "x" : "ok"}`),
  };
  const agent = new HttpAgent({ keepAlive: true, resolver, trace });
  try {
    const url = `http://web.test:${server.port}/`;
    const first = await get(http, url, { agent });
    const second = await get(http, url, { agent });
    assert.equal(first, second, "the same client port: the socket was reused");
    assert.deepEqual(connects, [
      `[::1]:${server.port} x`,
      `127.0.0.1:${server.port} ok`,
    ]);
  } finally {
    agent.destroy();
    await server.close();
  }
});

test("HttpAgent: a refused connect fails the request with code ECONNREFUSED", async () => {
  const port = await closedPort();
  const agent = new HttpAgent();
  try {
    await assert.rejects(get(http, `http://127.0.0.1:${port}/`, { agent }), (
      err: unknown,
    ) => {
      assert.ok(err instanceof DialError, `got ${err}`);
      assert.equal(err.code, "ECONNREFUSED");
      return true;
    });
  } finally {
    agent.destroy();
  }
});

test("HttpAgent: an unknown name fails with ENOTFOUND", async () => {
  const agent = new HttpAgent({ resolver });
  try {
    await assert.rejects(get(http, "http://nosuch.test/", { agent }), {
      code: "ENOTFOUND",
    });
  } finally {
    agent.destroy();
  }
});

test("HttpAgent: connectTimeout bounds the dial with ETIMEDOUT", async () => {
  const hanging = await startHangingListener();
  const agent = new HttpAgent({ connectTimeout: 50 });
  try {
    await assert.rejects(
      get(http, `http://127.0.0.1:${hanging.port}/`, { agent }),
      { code: "ETIMEDOUT" },
    );
  } finally {
    agent.destroy();
    await hanging.close();
  }
});

test("HttpAgent: destroying the request during the dial aborts the dial", async () => {
  const hanging = await startHangingListener();
  const started = Promise.withResolvers<void>();
  const ended = Promise.withResolvers<string>();
  const agent = new HttpAgent({
    trace: {
      connectStart: () => started.resolve(),
      connectDone: ({ error }) => ended.resolve(error?.message ?? "ok"),
    },
  });
  try {
    const req = http.get(`http://127.0.0.1:${hanging.port}/`, { agent });
    req.on("error", () => {});
    await started.promise;
    req.destroy();
    assert.notEqual(await ended.promise, "ok");
  } finally {
    agent.destroy();
    await hanging.close();
  }
});

test("HttpsAgent: ca, servername by name, ALPN http/1.1, keep-alive reuse, TLS hooks", async () => {
  const server = await serve(
    https.createServer(
      { key: KEY, cert: CERT, ALPNProtocols: ["http/1.1"] },
      handler,
    ),
  );
  const events: string[] = [];
  const agent = new HttpsAgent({
    keepAlive: true,
    resolver,
    ca: TEST_CA,
    trace: {
      tlsHandshakeStart: ({ serverName }) => events.push(`start ${serverName}`),
      tlsHandshakeDone: ({ serverName, alpnProtocol, error }) =>
        events.push(`done ${serverName} ${error?.message ?? alpnProtocol}`),
    },
  });
  try {
    const url = `https://tls.test:${server.port}/`;
    const first = await get(https, url, { agent });
    const second = await get(https, url, { agent });
    assert.equal(first, second, "the same client port: the socket was reused");
    // Bun's tls.connect over an existing socket does not send ALPN.
    const alpn = onBun ? "-" : "http/1.1";
    assert.match(first, new RegExp(` ${alpn}$`));
    assert.deepEqual(events, [
      "start tls.test",
      `done tls.test ${onBun ? null : "http/1.1"}`,
    ]);
  } finally {
    agent.destroy();
    await server.close();
  }
});

test("HttpsAgent: an untrusted certificate fails with Node's TLS error; rejectUnauthorized: false lets it through", async () => {
  const server = await serve(
    https.createServer({ key: KEY, cert: CERT }, handler),
  );
  const failures: string[] = [];
  const strict = new HttpsAgent({
    trace: {
      tlsHandshakeDone: ({ error }) => failures.push(error?.name ?? "ok"),
    },
  });
  const lax = new HttpsAgent({ rejectUnauthorized: false });
  try {
    const url = `https://localhost:${server.port}/`;
    await assert.rejects(get(https, url, { agent: strict }), (err: unknown) => {
      assert.equal(
        (err as { code?: string }).code,
        "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
      );
      return true;
    });
    assert.deepEqual(failures, ["TLSError"]);
    assert.match(await get(https, url, { agent: lax }), /^\d+ /);
  } finally {
    strict.destroy();
    lax.destroy();
    await server.close();
  }
});

/** Records every hook (HTTP and dial) by name, with the gotConn details. */
function recorder(): {
  trace: HTTPTrace;
  events: string[];
  conns: GotConnInfo[];
} {
  const events: string[] = [];
  const conns: GotConnInfo[] = [];
  const trace: HTTPTrace = {};
  for (
    const hook of [
      "getConn",
      "gotConn",
      "putIdleConn",
      "wroteHeaders",
      "wroteRequest",
      "gotFirstResponseByte",
      "dialStart",
      "connectStart",
      "connectDone",
      "dialDone",
    ] as const
  ) {
    (trace as Record<string, unknown>)[hook] = (info: unknown) => {
      events.push(hook);
      if (hook === "gotConn") conns.push(info as GotConnInfo);
    };
  }
  return { trace, events, conns };
}

const FRESH = [
  "getConn",
  "dialStart",
  "connectStart",
  "connectDone",
  "dialDone",
  "gotConn",
  "wroteHeaders",
  "wroteRequest",
  "gotFirstResponseByte",
];

test("HttpAgent: ClientTrace hooks of a fresh connection, then of a reused keep-alive one", async () => {
  const server = await serve(http.createServer(handler));
  const { trace, events, conns } = recorder();
  const agent = new HttpAgent({ keepAlive: true, trace });
  try {
    const url = `http://127.0.0.1:${server.port}/`;
    await get(http, url, { agent });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(events, [...FRESH, "putIdleConn"]);
    assert.equal(conns[0].reused, false);
    assert.equal(conns[0].wasIdle, false);
    assert.equal(conns[0].idleTime, 0);
    assert.deepEqual(conns[0].remoteAddr, {
      hostname: "127.0.0.1",
      port: server.port,
    });
    assert.equal(conns[0].localAddr.hostname, "127.0.0.1");
    assert.equal(conns[0].alpnProtocol, null);
    events.length = 0;
    await get(http, url, { agent });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(events, [
      "getConn",
      "gotConn",
      "wroteHeaders",
      "wroteRequest",
      "gotFirstResponseByte",
      "putIdleConn",
    ]);
    assert.equal(conns[1].reused, true);
    assert.equal(conns[1].wasIdle, true);
    assert.ok(conns[1].idleTime >= 0);
    assert.deepEqual(conns[1].localAddr, conns[0].localAddr);
  } finally {
    agent.destroy();
    await server.close();
  }
});

test("HttpAgent: the ambient context's trace composes under the agent's; a throwing hook does not break the request", async () => {
  const server = await serve(http.createServer(handler));
  const order: string[] = [];
  const errors: string[] = [];
  const previous = setHookErrorHandler((_e, hook) => errors.push(hook));
  const agent = new HttpAgent({
    trace: {
      getConn: () => order.push("agent"),
      gotConn: () => {
        throw new Error("boom");
      },
    },
  });
  try {
    const ctx = withTrace(background, {
      getConn: () => order.push("context"),
    } as HTTPTrace);
    const body = await runWithContext(
      ctx,
      () => get(http, `http://127.0.0.1:${server.port}/`, { agent }),
    );
    assert.match(body, /^\d+ -$/);
    assert.deepEqual(order, ["agent", "context"]);
    assert.deepEqual(errors, ["gotConn"]);
  } finally {
    setHookErrorHandler(previous);
    agent.destroy();
    await server.close();
  }
});

test("HttpAgent: a refused connect fires getConn and the dial hooks, never gotConn", async () => {
  const port = await closedPort();
  const { trace, events } = recorder();
  const agent = new HttpAgent({ trace });
  try {
    await assert.rejects(
      get(http, `http://127.0.0.1:${port}/`, { agent }),
      { code: "ECONNREFUSED" },
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(events, [
      "getConn",
      "dialStart",
      "connectStart",
      "connectDone",
      "dialDone",
    ]);
  } finally {
    agent.destroy();
  }
});

test("HttpsAgent: ClientTrace hooks by name around the TLS hooks; gotConn carries the ALPN protocol", async () => {
  const server = await serve(
    https.createServer(
      { key: KEY, cert: CERT, ALPNProtocols: ["http/1.1"] },
      handler,
    ),
  );
  const { trace, events, conns } = recorder();
  const hostPorts: string[] = [];
  const agent = new HttpsAgent({
    keepAlive: true,
    resolver,
    ca: TEST_CA,
    trace: {
      ...trace,
      getConn: (info) => {
        hostPorts.push(info.hostPort);
        trace.getConn!(info);
      },
      tlsHandshakeStart: () => events.push("tlsHandshakeStart"),
      tlsHandshakeDone: () => events.push("tlsHandshakeDone"),
    },
  });
  try {
    await get(https, `https://tls.test:${server.port}/`, { agent });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(hostPorts, [`tls.test:${server.port}`]);
    // tls.test: whether ::1 is tried first depends on the dial history
    // the earlier tests left, so the connect attempts are not counted here.
    assert.deepEqual(events.filter((e) => !e.startsWith("connect")), [
      "getConn",
      "dialStart",
      "dialDone",
      "tlsHandshakeStart",
      "tlsHandshakeDone",
      ...FRESH.slice(FRESH.indexOf("gotConn")),
      "putIdleConn",
    ]);
    // Bun's tls.connect over an existing socket does not send ALPN.
    assert.equal(conns[0].alpnProtocol, onBun ? null : "http/1.1");
    assert.equal(conns[0].reused, false);
  } finally {
    agent.destroy();
    await server.close();
  }
});
