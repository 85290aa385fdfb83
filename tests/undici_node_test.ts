// undiciConnector on Node: undici's own fetch and Agent, every connection
// dialled by nettrace — against node:http / node:https servers on loopback,
// names answered by an in-test resolver (no DNS leaves the process).

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createSecureServer } from "node:http2";
import { createServer as createHttpsServer } from "node:https";
import { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { Agent, fetch } from "undici";
import {
  background,
  DialError,
  DNSError,
  type Family,
  type IPAddr,
  type Resolver,
  runWithContext,
  TLSError,
  type Trace,
  withTrace,
} from "../runtimes/node.ts";
import {
  type UndiciConnectOptions,
  undiciConnector,
} from "../integrations/undici.ts";
import { closedPort, startHangingListener } from "./_tcp_fixtures.ts";

type Host = "127.0.0.1" | "::1";
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface TestServer {
  port: number;
  /** Connections the server accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** Answers `<method> <url> via <host header>` unless given a handler. */
const echo: Handler = (req, res) => {
  res.setHeader("content-type", "text/plain");
  res.end(`${req.method} ${req.url} via ${req.headers.host}`);
};

async function listen(
  server: Server,
  host: Host,
  port = 0,
): Promise<TestServer> {
  const result: TestServer = {
    port: 0,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  server.on("connection", () => result.connections++);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  result.port = (server.address() as { port: number }).port;
  return result;
}

function startHttp(host: Host, handler: Handler = echo): Promise<TestServer> {
  return listen(createHttpServer(handler), host);
}

const TLS_DIR = new URL("./fixtures/tls/", import.meta.url);
const tlsFile = (name: string) => readFileSync(new URL(name, TLS_DIR), "utf8");
const CA = tlsFile("ca.pem");

function startHttps(
  host: Host,
  options: { alpn?: string[]; handler?: Handler } = {},
): Promise<TestServer> {
  const server = createHttpsServer({
    cert: tlsFile("server.pem"),
    key: tlsFile("server.key"),
    ALPNProtocols: options.alpn,
  }, options.handler ?? echo);
  return listen(server as unknown as Server, host);
}

/** A resolver that knows `names`, each with the given addresses. */
function tableResolver(names: Record<string, string[]>): Resolver & {
  lookups: string[];
} {
  const lookups: string[] = [];
  return {
    lookups,
    lookup(host: string, family: Family): Promise<IPAddr[]> {
      lookups.push(`${host}/${family}`);
      const addrs = names[host];
      if (addrs === undefined) {
        return Promise.reject(new DNSError("no such host", host));
      }
      return Promise.resolve(
        addrs.filter((a) => (a.includes(":") ? 6 : 4) === family)
          .map((address) => ({ address, family })),
      );
    },
  };
}

/** A trace logging the dial hooks as short lines. */
function loggingTrace(log: string[]): Trace {
  return {
    dnsStart: ({ host }) => log.push(`dnsStart ${host}`),
    dnsDone: ({ addrs }) =>
      log.push(`dnsDone ${addrs.map((a) => a.address).join(",")}`),
    connectStart: ({ addr }) => log.push(`connectStart ${addr}`),
    connectDone: ({ addr, error }) =>
      log.push(`connectDone ${addr}${error ? ` ${error.message}` : ""}`),
    tlsHandshakeStart: ({ serverName }) =>
      log.push(`tlsHandshakeStart ${serverName}`),
    tlsHandshakeDone: ({ alpnProtocol, error }) =>
      log.push(
        `tlsHandshakeDone ${error ? error.message : `alpn=${alpnProtocol}`}`,
      ),
  };
}

async function withAgent<T>(
  agent: Agent,
  fn: (agent: Agent) => Promise<T>,
): Promise<T> {
  try {
    return await fn(agent);
  } finally {
    await agent.destroy();
  }
}

/** fetch()'s rejection, which must happen. */
async function fetchError(url: string, agent: Agent): Promise<TypeError> {
  try {
    const response = await fetch(url, { dispatcher: agent });
    await response.arrayBuffer();
  } catch (error) {
    assert.ok(error instanceof TypeError, `not a TypeError: ${error}`);
    return error;
  }
  assert.fail(`fetch(${url}) did not reject`);
}

/** Lets undici put a finished connection back into its pool. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

// ── plain HTTP ───────────────────────────────────────────────────────────

test("undiciConnector() lets undici's fetch reach an HTTP server on 127.0.0.1 through nettrace's dial", async () => {
  const server = await startHttp("127.0.0.1");
  const log: string[] = [];
  try {
    await withAgent(
      new Agent({ connect: undiciConnector({ trace: loggingTrace(log) }) }),
      async (agent) => {
        const url = `http://127.0.0.1:${server.port}/hello?x=1`;
        const response = await fetch(url, { dispatcher: agent });
        assert.equal(response.status, 200);
        assert.equal(
          await response.text(),
          `GET /hello?x=1 via 127.0.0.1:${server.port}`,
        );
      },
    );
    assert.deepEqual(log, [
      `connectStart 127.0.0.1:${server.port}`,
      `connectDone 127.0.0.1:${server.port}`,
    ]);
  } finally {
    await server.close();
  }
});

test("undiciConnector() dials an IPv6 literal URL (http://[::1]:port/) without brackets", async () => {
  const server = await startHttp("::1");
  const log: string[] = [];
  try {
    await withAgent(
      new Agent({ connect: undiciConnector({ trace: loggingTrace(log) }) }),
      async (agent) => {
        const response = await fetch(`http://[::1]:${server.port}/six`, {
          dispatcher: agent,
          method: "POST",
          body: "payload",
        });
        assert.equal(
          await response.text(),
          `POST /six via [::1]:${server.port}`,
        );
      },
    );
    assert.deepEqual(log, [
      `connectStart [::1]:${server.port}`,
      `connectDone [::1]:${server.port}`,
    ]);
  } finally {
    await server.close();
  }
});

test("undiciConnector() races a name's addresses with Happy Eyeballs: ::1 refused, 127.0.0.1 wins, hooks report both", async () => {
  const server = await startHttp("127.0.0.1");
  const resolver = tableResolver({ "app.test": ["::1", "127.0.0.1"] });
  const log: string[] = [];
  const p = server.port;
  try {
    await withAgent(
      new Agent({
        connect: undiciConnector({
          resolver,
          history: false,
          trace: loggingTrace(log),
        }),
      }),
      async (agent) => {
        const response = await fetch(`http://app.test:${p}/`, {
          dispatcher: agent,
        });
        assert.equal(await response.text(), `GET / via app.test:${p}`);
      },
    );
    // dnsDone comes once both families answered: before or after the
    // first connect started.
    assert.equal(log.filter((l) => l.startsWith("dnsDone")).length, 1);
    assert.deepEqual(log.filter((l) => !l.startsWith("dnsDone")), [
      "dnsStart app.test",
      `connectStart [::1]:${p}`,
      `connectDone [::1]:${p} dial tcp [::1]:${p}: connect: connection refused`,
      `connectStart 127.0.0.1:${p}`,
      `connectDone 127.0.0.1:${p}`,
    ]);
    assert.deepEqual(resolver.lookups.sort(), ["app.test/4", "app.test/6"]);
  } finally {
    await server.close();
  }
});

test("undiciConnector() dials localhost by name on its own (RFC 6761), both families", async () => {
  const server = await startHttp("::1");
  const log: string[] = [];
  try {
    await withAgent(
      new Agent({ connect: undiciConnector({ trace: loggingTrace(log) }) }),
      async (agent) => {
        const response = await fetch(`http://localhost:${server.port}/`, {
          dispatcher: agent,
        });
        assert.equal(response.status, 200);
      },
    );
    assert.equal(log[0], "dnsStart localhost");
    assert.deepEqual(log.at(-1), `connectDone [::1]:${server.port}`);
  } finally {
    await server.close();
  }
});

test("undiciConnector() calls a trace factory once per connection with what undici asked for", async () => {
  const server = await startHttp("127.0.0.1");
  const resolver = tableResolver({ "app.test": ["127.0.0.1"] });
  const targets: UndiciConnectOptions[] = [];
  const log: string[] = [];
  try {
    await withAgent(
      new Agent({
        connect: undiciConnector({
          resolver,
          trace: (target) => {
            targets.push(target);
            return target.hostname === "app.test" ? loggingTrace(log) : {};
          },
        }),
      }),
      async (agent) => {
        for (const host of ["app.test", "127.0.0.1"]) {
          const response = await fetch(`http://${host}:${server.port}/`, {
            dispatcher: agent,
          });
          await response.text();
        }
      },
    );
    assert.deepEqual(
      targets.map((t) => [t.hostname, t.protocol, `${t.port}`]),
      [
        ["app.test", "http:", `${server.port}`],
        ["127.0.0.1", "http:", `${server.port}`],
      ],
    );
    assert.equal(log[0], "dnsStart app.test");
    assert.equal(log.length, 4);
  } finally {
    await server.close();
  }
});

test("undiciConnector() leaves keep-alive to undici: a second request reuses the connection, no new dial", async () => {
  const server = await startHttp("127.0.0.1");
  let dials = 0;
  try {
    await withAgent(
      new Agent({
        connect: undiciConnector({ trace: { connectStart: () => dials++ } }),
      }),
      async (agent) => {
        for (const path of ["/one", "/two", "/three"]) {
          const response = await fetch(
            `http://127.0.0.1:${server.port}${path}`,
            { dispatcher: agent },
          );
          assert.equal(
            await response.text(),
            `GET ${path} via 127.0.0.1:${server.port}`,
          );
          await tick();
        }
      },
    );
    assert.equal(dials, 1);
    assert.equal(server.connections, 1);
  } finally {
    await server.close();
  }
});

test("undiciConnector() sockets close when the server ends them: Connection: close, then a fresh dial per request", async () => {
  const server = await startHttp("127.0.0.1", (req, res) => {
    res.setHeader("connection", "close");
    echo(req, res);
  });
  let dials = 0;
  try {
    await withAgent(
      new Agent({
        connect: undiciConnector({ trace: { connectStart: () => dials++ } }),
      }),
      async (agent) => {
        for (let i = 0; i < 3; i++) {
          const response = await fetch(`http://127.0.0.1:${server.port}/`, {
            dispatcher: agent,
          });
          assert.equal(response.status, 200);
          await response.text();
          await tick();
        }
      },
    );
    assert.equal(dials, 3);
    assert.equal(server.connections, 3);
  } finally {
    await server.close();
  }
});

test("undiciConnector() recovers when the server closes an idle keep-alive connection", async () => {
  const httpServer = createHttpServer(echo);
  const server = await listen(httpServer, "127.0.0.1");
  let dials = 0;
  try {
    await withAgent(
      new Agent({
        connect: undiciConnector({ trace: { connectStart: () => dials++ } }),
      }),
      async (agent) => {
        const url = `http://127.0.0.1:${server.port}/`;
        await (await fetch(url, { dispatcher: agent })).text();
        await tick();
        httpServer.closeIdleConnections();
        // undici sees the FIN and drops the connection (the socket must
        // not stay half-open in its pool).
        await new Promise((resolve) => setTimeout(resolve, 20));
        const response = await fetch(url, { dispatcher: agent });
        assert.equal(response.status, 200);
        await response.text();
      },
    );
    assert.equal(dials, 2);
  } finally {
    await server.close();
  }
});

test("undiciConnector() fails fetch with nettrace's DialError as the cause when the connection is refused", async () => {
  const port = await closedPort("127.0.0.1");
  await withAgent(new Agent({ connect: undiciConnector() }), async (agent) => {
    const error = await fetchError(`http://127.0.0.1:${port}/`, agent);
    assert.equal(error.message, "fetch failed");
    assert.ok(error.cause instanceof DialError, `cause: ${error.cause}`);
    assert.equal(
      error.cause.message,
      `dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
    assert.equal(error.cause.errors.length, 1);
  });
});

test("undiciConnector() fails fetch with a DialError carrying every attempt when all of a name's addresses refuse", async () => {
  const port = await closedPort("127.0.0.1");
  const resolver = tableResolver({ "app.test": ["::1", "127.0.0.1"] });
  await withAgent(
    new Agent({ connect: undiciConnector({ resolver, history: false }) }),
    async (agent) => {
      const error = await fetchError(`http://app.test:${port}/`, agent);
      assert.ok(error.cause instanceof DialError);
      assert.deepEqual(error.cause.errors.map((e) => e.message), [
        `dial tcp [::1]:${port}: connect: connection refused`,
        `dial tcp 127.0.0.1:${port}: connect: connection refused`,
      ]);
    },
  );
});

test("undiciConnector() fails fetch with the DNS error for an unknown name", async () => {
  const resolver = tableResolver({});
  await withAgent(
    new Agent({ connect: undiciConnector({ resolver }) }),
    async (agent) => {
      const error = await fetchError("http://nosuch.test/", agent);
      assert.ok(error.cause instanceof DialError);
      assert.equal(
        error.cause.message,
        "dial tcp: lookup nosuch.test: no such host",
      );
    },
  );
});

test("undiciConnector() gives up a connect that hangs after its timeout, failing fetch with a TimeoutError", async () => {
  const hanging = await startHangingListener("127.0.0.1");
  try {
    await withAgent(
      new Agent({ connect: undiciConnector({ timeout: 150 }) }),
      async (agent) => {
        const t0 = performance.now();
        const error = await fetchError(
          `http://127.0.0.1:${hanging.port}/`,
          agent,
        );
        const elapsed = performance.now() - t0;
        const cause = error.cause as Error;
        assert.equal(cause.name, "TimeoutError");
        assert.equal(
          cause.message,
          `dial tcp 127.0.0.1:${hanging.port}: i/o timeout`,
        );
        assert.ok(elapsed >= 140 && elapsed < 2000, `${elapsed} ms`);
      },
    );
  } finally {
    await hanging.close();
  }
});

test("undiciConnector() honours a timeout passed with the connect options", async () => {
  const hanging = await startHangingListener("127.0.0.1");
  try {
    const connect = undiciConnector();
    const error = await new Promise<Error>((resolve, reject) => {
      connect({
        hostname: "127.0.0.1",
        protocol: "http:",
        port: `${hanging.port}`,
        timeout: 100,
      }, (err, socket) => {
        if (err === null) {
          socket.destroy();
          reject(new Error("connected"));
        } else resolve(err);
      });
    });
    assert.equal(error.name, "TimeoutError");
  } finally {
    await hanging.close();
  }
});

test("undiciConnector() follows the ambient context: a trace set with runWithContext sees undici's dials", async () => {
  const server = await startHttp("127.0.0.1");
  const log: string[] = [];
  try {
    await withAgent(
      new Agent({ connect: undiciConnector() }),
      (agent) =>
        runWithContext(
          withTrace(background, loggingTrace(log)),
          async () => {
            const response = await fetch(`http://127.0.0.1:${server.port}/`, {
              dispatcher: agent,
            });
            await response.text();
          },
        ),
    );
    assert.deepEqual(log, [
      `connectStart 127.0.0.1:${server.port}`,
      `connectDone 127.0.0.1:${server.port}`,
    ]);
  } finally {
    await server.close();
  }
});

test("undiciConnector() hands undici the net.Socket itself, unread, with keep-alive on and half-open off", async () => {
  const server = await startHttp("127.0.0.1");
  try {
    const connect = undiciConnector();
    const socket = await new Promise<Socket>((resolve, reject) => {
      connect(
        { hostname: "127.0.0.1", protocol: "http:", port: server.port },
        (err, socket) => err === null ? resolve(socket) : reject(err),
      );
    });
    try {
      assert.ok(socket instanceof Socket);
      assert.equal(socket instanceof TLSSocket, false);
      assert.equal(socket.allowHalfOpen, false);
      // Nobody has read from it or switched it to flowing mode.
      assert.equal(socket.readableFlowing, null);
      assert.equal(socket.bytesRead, 0);
      assert.equal(socket.remotePort, server.port);
    } finally {
      socket.destroy();
    }
  } finally {
    await server.close();
  }
});

test("undiciConnector() reports what it cannot do (socketPath, localAddress, httpSocket) through the callback", async () => {
  const connect = undiciConnector();
  const cases: [Partial<UndiciConnectOptions>, RegExp][] = [
    [{ socketPath: "/tmp/x.sock" }, /socketPath "\/tmp\/x\.sock"/],
    [{ localAddress: "127.0.0.2" }, /localAddress "127\.0\.0\.2"/],
    [{ httpSocket: new Socket() }, /httpSocket/],
  ];
  for (const [extra, message] of cases) {
    let sync = true;
    const error = await new Promise<Error>((resolve, reject) => {
      connect(
        { hostname: "127.0.0.1", protocol: "http:", port: "80", ...extra },
        (err, socket) => {
          if (err === null) {
            socket.destroy();
            reject(new Error("connected"));
          } else resolve(err);
        },
      );
      sync = false;
    });
    assert.equal(sync, false, "the callback ran synchronously");
    assert.ok(error instanceof TypeError);
    assert.match(error.message, message);
  }
});

test("undiciConnector() rejects a trace that is neither hooks nor a function", () => {
  assert.throws(
    () => undiciConnector({ trace: 42 as unknown as Trace }),
    TypeError,
  );
});

// ── HTTPS ────────────────────────────────────────────────────────────────

test("undiciConnector() dials https: with nettrace's TLS: SNI and verification for the name, ALPN http/1.1, hooks for the handshake", async () => {
  const seen: { servername: unknown; alpn: unknown }[] = [];
  const server = await startHttps("127.0.0.1", {
    alpn: ["http/1.1"],
    handler: (req, res) => {
      const socket = req.socket as TLSSocket;
      seen.push({ servername: socket.servername, alpn: socket.alpnProtocol });
      echo(req, res);
    },
  });
  const resolver = tableResolver({ "tls.test": ["127.0.0.1"] });
  const log: string[] = [];
  try {
    await withAgent(
      new Agent({
        connect: undiciConnector({
          resolver,
          caCerts: [CA],
          trace: loggingTrace(log),
        }),
      }),
      async (agent) => {
        const response = await fetch(`https://tls.test:${server.port}/s`, {
          dispatcher: agent,
        });
        assert.equal(
          await response.text(),
          `GET /s via tls.test:${server.port}`,
        );
      },
    );
    assert.deepEqual(seen, [{ servername: "tls.test", alpn: "http/1.1" }]);
    assert.deepEqual(log.filter((l) => !l.startsWith("dns")), [
      `connectStart 127.0.0.1:${server.port}`,
      `connectDone 127.0.0.1:${server.port}`,
      "tlsHandshakeStart tls.test",
      "tlsHandshakeDone alpn=http/1.1",
    ]);
  } finally {
    await server.close();
  }
});

test("undiciConnector() follows the host's HTTPS record for https: (Happy Eyeballs v3): the record's port is dialled, its ALPN offered", async () => {
  const server = await startHttps("127.0.0.1", { alpn: ["http/1.1"] });
  const services: string[] = [];
  const resolver: Resolver = {
    ...tableResolver({ "tls.test": ["127.0.0.1"] }),
    lookupService(host, { scheme, port }) {
      services.push(`${host} ${scheme} ${port}`);
      return Promise.resolve([
        { priority: 1, target: ".", alpn: ["http/1.1"], port: server.port },
      ]);
    },
  };
  const log: string[] = [];
  try {
    await withAgent(
      new Agent({
        connect: undiciConnector({
          resolver,
          caCerts: [CA],
          trace: loggingTrace(log),
        }),
      }),
      async (agent) => {
        // No port in the URL: 443, but the HTTPS record says server.port.
        const response = await fetch("https://tls.test/s", {
          dispatcher: agent,
        });
        assert.equal(await response.text(), "GET /s via tls.test");
      },
    );
    assert.deepEqual(services, ["tls.test https 443"]);
    assert.ok(
      log.includes(`connectStart 127.0.0.1:${server.port}`),
      log.join("\n"),
    );
    // service: false keeps RFC 8305: no HTTPS query, port 443 as asked.
    const connect = undiciConnector({
      resolver,
      service: false,
      caCerts: [CA],
    });
    const err = await new Promise<Error | null>((resolve) =>
      connect(
        { hostname: "tls.test", protocol: "https:", port: `${server.port}` },
        (error, socket) => {
          socket?.destroy();
          resolve(error);
        },
      )
    );
    assert.equal(err, null);
    assert.deepEqual(services, ["tls.test https 443"]);
  } finally {
    await server.close();
  }
});

test("undiciConnector() hands undici the tls.TLSSocket of an https: dial, its handshake done", async () => {
  const server = await startHttps("::1");
  try {
    const connect = undiciConnector({ caCerts: [CA] });
    const socket = await new Promise<Socket>((resolve, reject) => {
      connect(
        { hostname: "[::1]", protocol: "https:", port: `${server.port}` },
        (err, socket) => err === null ? resolve(socket) : reject(err),
      );
    });
    try {
      assert.ok(socket instanceof TLSSocket);
      assert.equal(socket.authorized, true);
      assert.equal(socket.alpnProtocol, false); // the server offers none
      assert.equal(socket.remoteAddress, "::1");
      assert.equal(socket.readableFlowing, null);
    } finally {
      socket.destroy();
    }
  } finally {
    await server.close();
  }
});

test("undiciConnector() verifies an https: IP literal against the certificate's IP addresses, sending no SNI", async () => {
  let servername: unknown = "unset";
  const server = await startHttps("127.0.0.1", {
    handler: (req, res) => {
      servername = (req.socket as TLSSocket).servername;
      echo(req, res);
    },
  });
  try {
    await withAgent(
      new Agent({ connect: undiciConnector({ caCerts: [CA] }) }),
      async (agent) => {
        const response = await fetch(`https://127.0.0.1:${server.port}/`, {
          dispatcher: agent,
        });
        assert.equal(response.status, 200);
        await response.text();
      },
    );
    assert.equal(servername, false);
  } finally {
    await server.close();
  }
});

test("undiciConnector() reuses an https: connection: one dial, one handshake for several requests", async () => {
  const server = await startHttps("127.0.0.1");
  const log: string[] = [];
  try {
    await withAgent(
      new Agent({
        connect: undiciConnector({ caCerts: [CA], trace: loggingTrace(log) }),
      }),
      async (agent) => {
        for (let i = 0; i < 3; i++) {
          const response = await fetch(`https://127.0.0.1:${server.port}/`, {
            dispatcher: agent,
          });
          await response.text();
          await tick();
        }
      },
    );
    assert.equal(log.filter((l) => l.startsWith("tlsHandshakeDone")).length, 1);
    assert.equal(server.connections, 1);
  } finally {
    await server.close();
  }
});

test("undiciConnector() fails fetch with a DialError holding nettrace's TLSError when the certificate is not trusted", async () => {
  const server = await startHttps("127.0.0.1");
  try {
    await withAgent(
      new Agent({
        connect: undiciConnector({ caCerts: [tlsFile("other_ca.pem")] }),
      }),
      async (agent) => {
        const error = await fetchError(
          `https://127.0.0.1:${server.port}/`,
          agent,
        );
        assert.ok(error.cause instanceof DialError, `cause: ${error.cause}`);
        const op = error.cause.errors[0]! as Error & { cause: unknown };
        assert.ok(op.cause instanceof TLSError, `${op.cause}`);
        assert.equal(op.cause.kind, "untrusted");
        assert.match(error.cause.message, /^dial tcp 127\.0\.0\.1:\d+: tls: /);
      },
    );
  } finally {
    await server.close();
  }
});

test("undiciConnector() fails fetch with a hostname TLSError when the certificate does not cover the name", async () => {
  const server = await startHttps("127.0.0.1");
  const resolver = tableResolver({ "other.example.test": ["127.0.0.1"] });
  try {
    await withAgent(
      new Agent({ connect: undiciConnector({ resolver, caCerts: [CA] }) }),
      async (agent) => {
        const error = await fetchError(
          `https://other.example.test:${server.port}/`,
          agent,
        );
        assert.ok(error.cause instanceof DialError);
        const op = error.cause.errors[0]! as Error & { cause: unknown };
        assert.ok(op.cause instanceof TLSError);
        assert.equal(op.cause.kind, "hostname");
      },
    );
  } finally {
    await server.close();
  }
});

test("undiciConnector() offers h2 when the Agent allows HTTP/2, and undici speaks HTTP/2 on the socket", async () => {
  const versions: string[] = [];
  const server = createSecureServer({
    cert: tlsFile("server.pem"),
    key: tlsFile("server.key"),
    allowHTTP1: true,
  }, (req, res) => {
    versions.push(req.httpVersion);
    res.end(`h${req.httpVersion}`);
  });
  const sessions = new Set<{ destroy(): void }>();
  server.on("session", (session) => sessions.add(session));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const log: string[] = [];
  try {
    await withAgent(
      new Agent({
        allowH2: true,
        connect: undiciConnector({ caCerts: [CA], trace: loggingTrace(log) }),
      }),
      async (agent) => {
        const response = await fetch(`https://127.0.0.1:${port}/`, {
          dispatcher: agent,
        });
        assert.equal(await response.text(), "h2.0");
      },
    );
    // The connector's allowH2: false wins over the Agent's.
    await withAgent(
      new Agent({
        allowH2: true,
        connect: undiciConnector({ caCerts: [CA], allowH2: false }),
      }),
      async (agent) => {
        const response = await fetch(`https://127.0.0.1:${port}/`, {
          dispatcher: agent,
        });
        assert.equal(await response.text(), "h1.1");
      },
    );
    assert.deepEqual(versions, ["2.0", "1.1"]);
    assert.ok(log.includes("tlsHandshakeDone alpn=h2"), log.join("\n"));
  } finally {
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('undiciConnector() with successPoint "tls" runs the handshake inside the attempt', async () => {
  const server = await startHttps("127.0.0.1");
  const log: string[] = [];
  try {
    await withAgent(
      new Agent({
        connect: undiciConnector({
          caCerts: [CA],
          successPoint: "tls",
          trace: loggingTrace(log),
        }),
      }),
      async (agent) => {
        const response = await fetch(`https://127.0.0.1:${server.port}/`, {
          dispatcher: agent,
        });
        assert.equal(response.status, 200);
        await response.text();
      },
    );
    assert.deepEqual(log, [
      `connectStart 127.0.0.1:${server.port}`,
      `connectDone 127.0.0.1:${server.port}`,
      "tlsHandshakeStart 127.0.0.1",
      "tlsHandshakeDone alpn=null",
    ]);
  } finally {
    await server.close();
  }
});

test("undiciConnector() https: sockets close when the server ends them, and an idle one the server closes is replaced", async () => {
  let close = true;
  const httpsServer = createHttpsServer({
    cert: tlsFile("server.pem"),
    key: tlsFile("server.key"),
  }, (req, res) => {
    if (close) res.setHeader("connection", "close");
    echo(req, res);
  });
  const server = await listen(httpsServer as unknown as Server, "127.0.0.1");
  let dials = 0;
  try {
    await withAgent(
      new Agent({
        connect: undiciConnector({
          caCerts: [CA],
          trace: { connectStart: () => dials++ },
        }),
      }),
      async (agent) => {
        const url = `https://127.0.0.1:${server.port}/`;
        for (let i = 0; i < 2; i++) {
          await (await fetch(url, { dispatcher: agent })).text();
          await tick();
        }
        close = false;
        await (await fetch(url, { dispatcher: agent })).text();
        await tick();
        httpsServer.closeIdleConnections();
        await new Promise((resolve) => setTimeout(resolve, 20));
        const response = await fetch(url, { dispatcher: agent });
        assert.equal(response.status, 200);
        await response.text();
      },
    );
    assert.equal(dials, 4);
    assert.equal(server.connections, 4);
  } finally {
    await server.close();
  }
});
