// createConnection() on the Node adapter (runs on Node, Bun and Deno): a
// net.Socket-compatible Duplex returned at once, dialled by nettrace; and
// the dialled socket's net.connect defaults (allowHalfOpen off).
// Names come from an in-test resolver (nothing leaves the process).

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import {
  createConnection,
  dial,
  DialError,
  DNSError,
  type Family,
  type IPAddr,
  NettraceSocket,
  type Resolver,
  type Trace,
} from "../runtimes/node.ts";
import {
  closedPort,
  startEchoServer,
  startHangingListener,
  startServer,
} from "./_tcp_fixtures.ts";

/** db.test: ::1 (refused, nothing listens there) and 127.0.0.1. */
const resolver: Resolver = {
  lookup(host: string, family: Family): Promise<IPAddr[]> {
    if (host !== "db.test") {
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

function recorder(): { trace: Trace; events: string[] } {
  const events: string[] = [];
  return {
    events,
    trace: {
      dnsDone: ({ host, error }) =>
        events.push(`dnsDone ${host} ${error?.message ?? "ok"}`),
      connectStart: ({ addr }) => events.push(`connectStart ${addr}`),
      connectDone: ({ addr, error }) =>
        events.push(
          `connectDone ${addr} ${
            (error as { code?: string } | undefined)?.code ?? "ok"
          }`,
        ),
    },
  };
}

function closed(socket: NettraceSocket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.closed) resolve();
    else socket.once("close", () => resolve());
  });
}

function nextError(socket: NettraceSocket): Promise<Error> {
  return new Promise((resolve) => socket.once("error", resolve));
}

test("createConnection() returns at once, holds writes, and round-trips by name after the refused ::1", async () => {
  const server = await startEchoServer();
  const { trace, events } = recorder();
  try {
    const socket = createConnection({
      host: "db.test",
      port: server.port,
      resolver,
      trace,
    });
    assert.ok(socket instanceof NettraceSocket);
    assert.equal(socket.connecting, true);
    assert.equal(socket.readyState, "opening");
    assert.equal(socket.pending, true);
    const order: string[] = [];
    socket.on("connect", () => order.push("connect"));
    socket.on("ready", () => order.push("ready"));
    socket.write("held ");
    socket.end("until connected");
    let got = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => got += chunk);
    await closed(socket);
    assert.equal(got, "held until connected");
    assert.deepEqual(order, ["connect", "ready"]);
    assert.ok(events.includes("dnsDone db.test ok"), String(events));
    assert.deepEqual(events.filter((e) => e.startsWith("connect")), [
      `connectStart [::1]:${server.port}`,
      `connectDone [::1]:${server.port} ECONNREFUSED`,
      `connectStart 127.0.0.1:${server.port}`,
      `connectDone 127.0.0.1:${server.port} ok`,
    ]);
  } finally {
    await server.close();
  }
});

test("createConnection() without a port dials on .connect(port, host), as pg does", async () => {
  const server = await startEchoServer();
  try {
    const socket = createConnection({ resolver });
    assert.equal(socket.readyState, "closed");
    assert.equal(socket.connecting, false);
    const connected = new Promise<void>((resolve) =>
      socket.connect(server.port, "db.test", resolve)
    );
    assert.equal(socket.readyState, "opening");
    await connected;
    assert.equal(socket.readyState, "open");
    assert.equal(socket.pending, false);
    assert.equal(socket.remoteAddress, "127.0.0.1");
    assert.equal(socket.remotePort, server.port);
    assert.equal(socket.remoteFamily, "IPv4");
    assert.equal(typeof socket.localPort, "number");
    assert.equal((socket.address() as { port: number }).port, socket.localPort);
    assert.ok(socket.socket !== undefined, "the dialled net.Socket");
    socket.setNoDelay(false).setKeepAlive(true, 1000).unref().ref();
    socket.end("x");
    await closed(socket);
    assert.equal(socket.bytesWritten, 1);
    assert.equal(socket.bytesRead, 1);
  } finally {
    await server.close();
  }
});

test(".connect({ port, host }) takes an options object", async () => {
  const server = await startEchoServer();
  try {
    const socket = createConnection({ resolver });
    await new Promise<void>((resolve) =>
      socket.connect({ port: server.port, host: "db.test" }, resolve)
    );
    assert.equal(socket.remotePort, server.port);
    socket.destroy();
    await closed(socket);
  } finally {
    await server.close();
  }
});

test("a refused dial emits 'error' (DialError, code ECONNREFUSED) then 'close'", async () => {
  const port = await closedPort();
  const socket = createConnection({ host: "127.0.0.1", port });
  const err = await nextError(socket);
  assert.ok(err instanceof DialError, `got ${err}`);
  assert.equal((err as DialError).code, "ECONNREFUSED");
  assert.equal((err as DialError).syscall, "connect");
  await closed(socket);
  assert.equal(socket.readyState, "closed");
});

test("an unknown name emits a DialError with code ENOTFOUND", async () => {
  const socket = createConnection({ host: "nosuch.test", port: 1, resolver });
  const err = await nextError(socket);
  assert.ok(err instanceof DialError);
  assert.equal((err as DialError).code, "ENOTFOUND");
  assert.equal(err.message, "dial tcp: lookup nosuch.test: no such host");
  await closed(socket);
});

test("destroy() during the dial aborts it: no 'error', 'close', the attempt cancelled", async () => {
  const hanging = await startHangingListener();
  const started = Promise.withResolvers<void>();
  const done: string[] = [];
  const trace: Trace = {
    connectStart: () => started.resolve(),
    connectDone: ({ error }) => done.push(error?.message ?? "ok"),
  };
  try {
    const socket = createConnection({
      host: "127.0.0.1",
      port: hanging.port,
      trace,
    });
    let errors = 0;
    socket.on("error", () => errors++);
    await started.promise;
    socket.destroy();
    await closed(socket);
    assert.equal(errors, 0);
    assert.equal(socket.connecting, false);
    assert.equal(done.length, 1, "the attempt was ended");
    assert.notEqual(done[0], "ok");
  } finally {
    await hanging.close();
  }
});

test("a client's own connect timeout (setTimeout, then destroy) cancels the dial", async () => {
  const hanging = await startHangingListener();
  try {
    const socket = createConnection({ host: "127.0.0.1", port: hanging.port });
    socket.setTimeout(50, () => {
      socket.destroy(
        Object.assign(new Error("timeout"), { code: "ETIMEDOUT" }),
      );
    });
    const err = await nextError(socket);
    assert.equal((err as { code?: string }).code, "ETIMEDOUT");
    await closed(socket);
    assert.equal(socket.connecting, false);
  } finally {
    await hanging.close();
  }
});

test("connectTimeout bounds the dial: 'error' with code ETIMEDOUT", async () => {
  const hanging = await startHangingListener();
  try {
    const socket = createConnection({
      host: "127.0.0.1",
      port: hanging.port,
      connectTimeout: 50,
    });
    const err = await nextError(socket);
    assert.equal((err as { code?: string }).code, "ETIMEDOUT");
    assert.match(err.message, /i\/o timeout/);
    await closed(socket);
  } finally {
    await hanging.close();
  }
});

test("an aborted signal emits AbortError with code ABORT_ERR", async () => {
  const hanging = await startHangingListener();
  try {
    const controller = new AbortController();
    const socket = createConnection({
      host: "127.0.0.1",
      port: hanging.port,
      signal: controller.signal,
    });
    controller.abort();
    const err = await nextError(socket);
    assert.equal(err.name, "AbortError");
    assert.equal((err as { code?: string }).code, "ABORT_ERR");
    await closed(socket);
  } finally {
    await hanging.close();
  }
});

test("a bad port fails with ERR_SOCKET_BAD_PORT", async () => {
  const socket = createConnection({ host: "127.0.0.1", port: 70000 });
  const err = await nextError(socket);
  assert.equal((err as { code?: string }).code, "ERR_SOCKET_BAD_PORT");
  await closed(socket);
});

test("the server hanging up ends and closes the socket (allowHalfOpen off, as net.connect)", async () => {
  const server = await startServer({ onConnection: (s) => s.end("bye") });
  try {
    const socket = createConnection({ host: "127.0.0.1", port: server.port });
    let got = "";
    socket.on("data", (chunk) => got += chunk);
    let ended = false;
    socket.on("end", () => ended = true);
    await closed(socket);
    assert.equal(got, "bye");
    assert.ok(ended);
    assert.equal(socket.writableEnded, true);
  } finally {
    await server.close();
  }
});

test("allowHalfOpen: true keeps writing after the server's FIN", async () => {
  let reply = "";
  let serverSide: Socket | undefined;
  const done = Promise.withResolvers<void>();
  const server = await startServer({
    onConnection: (s) => {
      serverSide = s;
      s.on("data", (d) => reply += d);
      s.on("end", () => done.resolve());
      s.end("bye");
    },
  });
  try {
    const socket = createConnection({
      host: "127.0.0.1",
      port: server.port,
      allowHalfOpen: true,
    });
    const ended = new Promise<void>((resolve) => socket.on("end", resolve));
    socket.resume();
    await ended;
    assert.equal(socket.writableEnded, false);
    socket.end("still here");
    await done.promise;
    assert.equal(reply, "still here");
    await closed(socket);
  } finally {
    serverSide?.destroy();
    await server.close();
  }
});

test("dial() on the Node adapter: allowHalfOpen off by default, on when asked", async () => {
  const server = await startEchoServer();
  try {
    const plain = await dial(`127.0.0.1:${server.port}`);
    assert.equal(plain.socket.allowHalfOpen, false);
    plain.close();
    const half = await dial(`127.0.0.1:${server.port}`, {
      allowHalfOpen: true,
    });
    assert.equal(half.socket.allowHalfOpen, true);
    half.close();
  } finally {
    await server.close();
  }
});
