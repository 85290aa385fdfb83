// A connection's localAddr is read on first access (issue 16): one closed,
// or reset by the peer, before anyone read it still reports the address the
// server saw, on every runtime's dialer.
import { test } from "./_test.ts";
import assert from "node:assert/strict";
import type { Conn, Dialer } from "../src/types.ts";
import { NEVER_ABORTED } from "../src/_shared_signal.ts";
import { startEchoServer, startServer } from "./_tcp_fixtures.ts";

const runtime = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";
const { dialer } = await import(`../runtimes/${runtime}.ts`) as {
  dialer: Dialer<Conn>;
};

test(`${runtime} localAddr of a connection closed before it was read`, async () => {
  const server = await startEchoServer();
  try {
    const conn = await dialer.connect(
      { address: "127.0.0.1", family: 4, port: server.port },
      { signal: NEVER_ABORTED },
    );
    await server.until(() => server.connections === 1);
    const seen = server.sockets[0]!.remotePort;
    dialer.close(conn);
    await server.until(() => server.eofs === 1);
    assert.equal(conn.localAddr.hostname, "127.0.0.1");
    assert.equal(conn.localAddr.port, seen);
    assert.equal(conn.remoteAddr.hostname, "127.0.0.1");
    assert.equal(conn.remoteAddr.port, server.port);
  } finally {
    await server.close();
  }
});

test(`${runtime} localAddr of a connection the peer reset before it was read`, async () => {
  const server = await startServer({
    // Reset once the client's first byte is in: the connect itself is done.
    onConnection: (socket) =>
      socket.once("data", () => socket.resetAndDestroy()),
  });
  try {
    const conn = await dialer.connect(
      { address: "127.0.0.1", family: 4, port: server.port },
      { signal: NEVER_ABORTED },
    );
    await server.until(() => server.connections === 1);
    const seen = server.sockets[0]!.remotePort;
    const reader = conn.readable.getReader();
    const writer = conn.writable.getWriter();
    await writer.write(new Uint8Array([1]));
    await assert.rejects(reader.read());
    assert.equal(conn.localAddr.hostname, "127.0.0.1");
    assert.equal(conn.localAddr.port, seen);
    dialer.close(conn);
  } finally {
    await server.close();
  }
});
