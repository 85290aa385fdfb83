/**
 * The conformance suite every runtime adapter's dialer passes: connects,
 * addresses, byte streams with backpressure, Go's errors, aborts and closes,
 * against loopback servers only. Each `dialer_<runtime>_test.ts` runs it on
 * its own runtime.
 *
 * @module
 */

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import type { Conn, Dialer, Endpoint } from "../src/types.ts";
import { SyscallError } from "../src/errors.ts";
import {
  closedPort,
  type LoopbackHost,
  startEchoServer,
  startHangingListener,
  startServer,
  synSentTo,
} from "./_tcp_fixtures.ts";

/** A connection as the suite sees it: a `Conn`, maybe with its socket. */
export type ConnUnderTest = Conn & { socket?: unknown };

/** The adapter under test and what differs on its runtime. */
export interface DialerUnderTest {
  /** Prefix of every test name: the runtime. */
  name: string;
  /** The dialer. */
  dialer: Dialer<ConnUnderTest>;
  /**
   * Whether an abort also closes the kernel socket of a connect still in
   * progress. Bun's `Bun.connect` cannot be cancelled.
   * @default {true}
   */
  cancelsPendingConnect?: boolean;
  /**
   * Whether an abort's rejection of a pending connect comes from the
   * runtime's event loop rather than from the abort listener itself. Deno's
   * `Deno.connect({ signal })` rejects when its cancelled connect op
   * settles: on the event-loop turn after the abort, where a 0 ms timer
   * that came due in the same turn may run first (measured: 2–7 in 1000
   * aborts, more on a loaded machine; never later than the second timer).
   * Such a dialer gets one more macrotask before "rejected at once" fails.
   * @default {false}
   */
  abortSettlesOnNextTurn?: boolean;
  /**
   * Whether closing `writable` only half-closes the connection (Bun, Node).
   * Deno's `TcpConn.writable` closes the whole connection.
   * @default {true}
   */
  writableCloseHalfCloses?: boolean;
  /**
   * Whether `conn.close()` may be called twice. Deno's `TcpConn.close()`
   * throws `BadResource` the second time (the dialer's `close()` does not).
   * @default {true}
   */
  connCloseIdempotent?: boolean;
  /**
   * Sends `bytes` through the native `conn.socket` and resolves with as many
   * bytes read back through it; absent when there is no native socket.
   * @default {undefined}
   */
  socketRoundTrip?: (
    conn: ConnUnderTest,
    bytes: Uint8Array,
  ) => Promise<Uint8Array>;
}

const MiB = 1024 * 1024;

function endpoint(host: LoopbackHost, port: number): Endpoint {
  return { address: host, family: host === "::1" ? 6 : 4, port };
}

function live(): AbortSignal {
  return new AbortController().signal;
}

function pattern(size: number, seed = 7): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed + (i >> 12)) & 0xff;
  return bytes;
}

function assertSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(actual.byteLength, expected.byteLength, "byte count");
  for (let i = 0; i < expected.byteLength; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(
        `bytes differ at offset ${i}: ${actual[i]} != ${expected[i]}`,
      );
    }
  }
}

/** Reads exactly `n` bytes (or fails at EOF). */
async function readExactly(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  n: number,
): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const { value, done } = await reader.read();
    if (done) assert.fail(`EOF after ${got} of ${n} bytes`);
    assert.ok(value instanceof Uint8Array, "chunks are Uint8Arrays");
    assert.ok(got + value.byteLength <= n, "no more bytes than were sent");
    out.set(value, got);
    got += value.byteLength;
  }
  return out;
}

/** Reads until EOF. */
async function readAll(
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

type State = "pending" | "fulfilled" | "rejected";

function track(promise: Promise<unknown>): { readonly state: State } {
  const box = { state: "pending" as State };
  promise.then(() => box.state = "fulfilled", () => box.state = "rejected");
  return box;
}

/**
 * Waits `ms` and reports whether `promise` was still pending. Used only for
 * "this does not happen" checks: an unbounded buffer would settle these in
 * microseconds.
 */
async function stillPendingAfter(
  promise: Promise<unknown>,
  ms: number,
): Promise<boolean> {
  const box = track(promise);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    promise.then(() => {
      clearTimeout(timer);
      resolve();
    }, () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return box.state === "pending";
}

/** Lets one macrotask pass (no waiting on time). */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Re-checks `predicate` on each macrotask, for at most `limitMs`. */
async function eventually(
  predicate: () => boolean,
  limitMs: number,
): Promise<boolean> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > limitMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

/** An abort signal that records its `abort` listeners. */
function countingSignal(): {
  controller: AbortController;
  active: Set<unknown>;
  notOnce: number;
} {
  const controller = new AbortController();
  const signal = controller.signal;
  const result = { controller, active: new Set<unknown>(), notOnce: 0 };
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ) => {
    if (type === "abort") {
      result.active.add(listener);
      if (typeof options !== "object" || options.once !== true) {
        result.notOnce++;
      }
    }
    add(type, listener, options);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ) => {
    if (type === "abort") result.active.delete(listener);
    remove(type, listener, options);
  }) as typeof signal.removeEventListener;
  return result;
}

async function echo(
  conn: ConnUnderTest,
  bytes: Uint8Array,
): Promise<Uint8Array> {
  const writer = conn.writable.getWriter();
  const reader = conn.readable.getReader();
  try {
    const [, back] = await Promise.all([
      writer.write(bytes),
      readExactly(reader, bytes.byteLength),
    ]);
    return back;
  } finally {
    writer.releaseLock();
    reader.releaseLock();
  }
}

/**
 * Registers the dialer conformance tests, flat, each named
 * `"<name> dialer …"`.
 *
 * @param runtime The dialer and its runtime's differences.
 */
export function dialerConformance(runtime: DialerUnderTest): void {
  const { dialer } = runtime;
  const name = `${runtime.name} dialer`;
  const cancelsPendingConnect = runtime.cancelsPendingConnect ?? true;
  const abortSettlesOnNextTurn = runtime.abortSettlesOnNextTurn ?? false;
  const halfCloses = runtime.writableCloseHalfCloses ?? true;
  const closeIdempotent = runtime.connCloseIdempotent ?? true;

  for (const host of ["127.0.0.1", "::1"] as const) {
    test(`${name} connects to a ${host} echo server and round-trips bytes through readable and writable`, async () => {
      const server = await startEchoServer({ host });
      try {
        const conn = await dialer.connect(endpoint(host, server.port), {
          signal: live(),
        });
        try {
          const hello = new TextEncoder().encode(`hello ${host}`);
          assertSameBytes(await echo(conn, hello), hello);
          const more = pattern(100_000);
          assertSameBytes(await echo(conn, more), more);
        } finally {
          dialer.close(conn);
        }
        assert.equal(server.connections, 1);
      } finally {
        await server.close();
      }
    });
  }

  test(`${name} reports localAddr and remoteAddr as { hostname, port } with the IPs`, async () => {
    for (const host of ["127.0.0.1", "::1"] as const) {
      const server = await startEchoServer({ host });
      try {
        const conn = await dialer.connect(endpoint(host, server.port), {
          signal: live(),
        });
        try {
          assert.equal(conn.remoteAddr.hostname, host);
          assert.equal(conn.remoteAddr.port, server.port);
          assert.equal(conn.localAddr.hostname, host);
          assert.ok(Number.isInteger(conn.localAddr.port));
          assert.ok(conn.localAddr.port > 0 && conn.localAddr.port < 65536);
          await server.until(() => server.connections === 1);
          const accepted = server.sockets[0];
          assert.equal(accepted.remotePort, conn.localAddr.port);
        } finally {
          dialer.close(conn);
        }
      } finally {
        await server.close();
      }
    }
  });

  if (runtime.socketRoundTrip !== undefined) {
    const roundTrip = runtime.socketRoundTrip;
    test(`${name} round-trips bytes through the native conn.socket`, async () => {
      const server = await startEchoServer();
      try {
        const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
          signal: live(),
        });
        try {
          assert.ok(conn.socket !== undefined, "conn.socket is set");
          const bytes = pattern(300_000, 3);
          assertSameBytes(await roundTrip(conn, bytes), bytes);
        } finally {
          dialer.close(conn);
        }
      } finally {
        await server.close();
      }
    });
  }

  test(`${name} round-trips 8 MiB intact while writing and reading at once`, async () => {
    const server = await startEchoServer();
    try {
      const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      try {
        const bytes = pattern(8 * MiB, 11);
        const writer = conn.writable.getWriter();
        const reader = conn.readable.getReader();
        const writing = (async () => {
          for (let at = 0; at < bytes.byteLength; at += 256 * 1024) {
            await writer.write(bytes.subarray(at, at + 256 * 1024));
          }
        })();
        const back = await readExactly(reader, bytes.byteLength);
        await writing;
        assertSameBytes(back, bytes);
        writer.releaseLock();
        reader.releaseLock();
      } finally {
        dialer.close(conn);
      }
    } finally {
      await server.close();
    }
  });

  test(`${name} writable.write() waits while the peer does not read`, async () => {
    let received = 0;
    const server = await startServer({
      pauseOnConnect: true,
      onConnection: (socket) => {
        socket.on("data", (chunk: Uint8Array) => received += chunk.byteLength);
        socket.pause();
      },
    });
    try {
      const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      try {
        const size = 16 * MiB;
        const writer = conn.writable.getWriter();
        const writing = writer.write(pattern(size, 5));
        assert.ok(
          await stillPendingAfter(writing, 200),
          "write() resolved although the peer reads nothing",
        );
        assert.ok((writer.desiredSize ?? 0) <= 0, "desiredSize shows the wait");
        await server.until(() => server.connections === 1);
        const peer = server.sockets[0];
        const all = new Promise<void>((resolve) => {
          const check = () => {
            if (received < size) return;
            peer.off("data", check);
            resolve();
          };
          peer.on("data", check);
        });
        peer.resume();
        await writing;
        await all;
        assert.equal(received, size);
        writer.releaseLock();
      } finally {
        dialer.close(conn);
      }
    } finally {
      await server.close();
    }
  });

  test(`${name} readable stops reading from the socket while the consumer does not read`, async () => {
    const size = 32 * MiB;
    const bytes = pattern(size, 9);
    let written: Promise<void> | undefined;
    const server = await startServer({
      onConnection: (socket: Socket) => {
        socket.on("error", () => {});
        written = new Promise<void>((resolve, reject) => {
          socket.write(bytes, (err) => err ? reject(err) : resolve());
        });
      },
    });
    try {
      const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      try {
        const reader = conn.readable.getReader();
        const first = await reader.read();
        assert.ok(!first.done && first.value.byteLength > 0);
        await server.until(() => written !== undefined);
        assert.ok(
          await stillPendingAfter(written!, 300),
          "the server wrote 32 MiB although the client reads nothing",
        );
        const rest = await readExactly(reader, size - first.value.byteLength);
        await written;
        const back = new Uint8Array(size);
        back.set(first.value, 0);
        back.set(rest, first.value.byteLength);
        assertSameBytes(back, bytes);
        reader.releaseLock();
      } finally {
        dialer.close(conn);
      }
    } finally {
      await server.close();
    }
  });

  test(`${name} keeps the bytes that arrive before readable is used, without reading them all`, async () => {
    const size = 32 * MiB;
    const bytes = pattern(size, 13);
    let written: Promise<void> | undefined;
    const server = await startServer({
      onConnection: (socket: Socket) => {
        socket.on("error", () => {});
        written = new Promise<void>((resolve, reject) => {
          socket.write(bytes, (err) => err ? reject(err) : resolve());
        });
      },
    });
    try {
      const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      try {
        await server.until(() => written !== undefined);
        assert.ok(
          await stillPendingAfter(written!, 300),
          "the server wrote 32 MiB although nobody reads",
        );
        const back = await readExactly(conn.readable.getReader(), size);
        await written;
        assertSameBytes(back, bytes);
      } finally {
        dialer.close(conn);
      }
    } finally {
      await server.close();
    }
  });

  test(`${name} readable ends when the server closes the connection`, async () => {
    const server = await startServer({
      onConnection: (socket) => socket.end("bye"),
    });
    try {
      const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      try {
        const text = new TextDecoder().decode(
          await readAll(conn.readable.getReader()),
        );
        assert.equal(text, "bye");
      } finally {
        dialer.close(conn);
      }
    } finally {
      await server.close();
    }
  });

  test(`${name} readable fails with ECONNRESET when the server resets the connection`, async () => {
    const server = await startServer();
    try {
      const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      try {
        await server.until(() => server.connections === 1);
        const reader = conn.readable.getReader();
        const reading = reader.read();
        server.sockets[0].resetAndDestroy();
        await assert.rejects(reading, (err: unknown) => {
          assert.equal((err as { code?: string }).code, "ECONNRESET");
          return true;
        });
      } finally {
        dialer.close(conn);
      }
    } finally {
      await server.close();
    }
  });

  if (halfCloses) {
    test(`${name} closing writable half-closes: the peer sees EOF and its reply still arrives`, async () => {
      const server = await startEchoServer();
      try {
        const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
          signal: live(),
        });
        try {
          const writer = conn.writable.getWriter();
          await writer.write(new TextEncoder().encode("last words"));
          await writer.close();
          const back = await readAll(conn.readable.getReader());
          assert.equal(new TextDecoder().decode(back), "last words");
          await server.until(() => server.eofs === 1);
        } finally {
          dialer.close(conn);
        }
      } finally {
        await server.close();
      }
    });
  }

  for (const host of ["127.0.0.1", "::1"] as const) {
    test(`${name} connect() to a closed ${host} port rejects with SyscallError ECONNREFUSED`, async () => {
      const port = await closedPort(host);
      await assert.rejects(
        dialer.connect(endpoint(host, port), { signal: live() }),
        (err: unknown) => {
          assert.ok(err instanceof SyscallError, `got ${err}`);
          assert.equal(err.message, "connect: connection refused");
          assert.equal(err.code, "ECONNREFUSED");
          assert.equal(err.syscall, "connect");
          assert.ok(err.cause !== undefined, "the native error is the cause");
          return true;
        },
      );
    });
  }

  test(`${name} connect() with an aborted signal rejects with its reason and opens nothing`, async () => {
    const server = await startEchoServer();
    try {
      const reason = new Error("given up before");
      await assert.rejects(
        dialer.connect(endpoint("127.0.0.1", server.port), {
          signal: AbortSignal.abort(reason),
        }),
        (err: unknown) => err === reason,
      );
      // A later connection is the first one the server sees.
      const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      dialer.close(conn);
      await server.until(() => server.eofs === 1);
      assert.equal(server.connections, 1);
    } finally {
      await server.close();
    }
  });

  for (const host of ["127.0.0.1", "::1"] as const) {
    test(`${name} connect() aborted while it hangs on ${host} rejects at once with the reason`, async (t) => {
      const listener = await startHangingListener(host);
      try {
        const before = synSentTo(listener.port) ?? 0;
        const controller = new AbortController();
        const connecting = dialer.connect(endpoint(host, listener.port), {
          signal: controller.signal,
        });
        const outcome = track(connecting);
        if (synSentTo(listener.port) !== undefined) {
          assert.ok(
            await eventually(() => synSentTo(listener.port)! > before, 2000),
            "the connect's SYN went out",
          );
        } else {
          await nextMacrotask();
        }
        assert.equal(outcome.state, "pending", "the connect hangs");
        const reason = new Error("lost the race");
        controller.abort(reason);
        await nextMacrotask();
        if (abortSettlesOnNextTurn && outcome.state === "pending") {
          // The timer ran before the event loop delivered the cancelled
          // op's rejection in the same turn; it is there by the next timer.
          t.diagnostic("the abort's rejection came after a 0 ms timer");
          await nextMacrotask();
        }
        assert.equal(
          outcome.state,
          "rejected",
          abortSettlesOnNextTurn
            ? "rejected by the event-loop turn after the abort"
            : "rejected before the next macrotask",
        );
        await assert.rejects(connecting, (err: unknown) => err === reason);
        if (synSentTo(listener.port) === undefined) {
          t.diagnostic("no /proc/net/tcp: cannot check the kernel socket");
        } else if (cancelsPendingConnect) {
          assert.ok(
            await eventually(() => synSentTo(listener.port) === before, 1000),
            "the aborted connect's socket is gone",
          );
        } else {
          t.diagnostic(
            "this runtime cannot cancel a pending connect: its socket stays " +
              "in SYN-SENT until the listener goes",
          );
        }
      } finally {
        await listener.close();
      }
    });
  }

  test(`${name} connect() aborted right after it starts closes the connection if it lands`, async (t) => {
    const server = await startEchoServer();
    try {
      const controller = new AbortController();
      const reason = new Error("changed my mind");
      const connecting = dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: controller.signal,
      });
      controller.abort(reason);
      await assert.rejects(connecting, (err: unknown) => err === reason);
      // The kernel accepts in SYN order: once the server has this later
      // connection, it has the aborted one too if that got through.
      const later = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      const ping = new TextEncoder().encode("ping");
      assertSameBytes(await echo(later, ping), ping);
      dialer.close(later);
      await server.until(() =>
        server.eofs === server.connections && server.connections >= 1
      );
      assert.ok(server.connections <= 2);
      t.diagnostic(
        `the aborted connect ${
          server.connections === 2 ? "landed and was closed" : "never landed"
        }`,
      );
    } finally {
      await server.close();
    }
  });

  test(`${name} connect() stops watching the signal once settled`, async () => {
    const server = await startEchoServer();
    try {
      const ok = countingSignal();
      const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: ok.controller.signal,
      });
      assert.equal(ok.active.size, 0, "no abort listener left after success");
      assert.equal(ok.notOnce, 0, "abort listeners are added with once");
      // Aborting now does not touch the connection.
      ok.controller.abort(new Error("too late"));
      const ping = new TextEncoder().encode("still here");
      assertSameBytes(await echo(conn, ping), ping);
      dialer.close(conn);

      const refused = countingSignal();
      await assert.rejects(
        dialer.connect(endpoint("127.0.0.1", await closedPort()), {
          signal: refused.controller.signal,
        }),
        SyscallError,
      );
      assert.equal(
        refused.active.size,
        0,
        "no abort listener left after failure",
      );
      assert.equal(refused.notOnce, 0);
    } finally {
      await server.close();
    }
  });

  test(`${name} close() closes at once, twice is harmless, and the server sees EOF`, async () => {
    const server = await startEchoServer();
    try {
      const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      const ping = new TextEncoder().encode("ping");
      assertSameBytes(await echo(conn, ping), ping);
      dialer.close(conn);
      dialer.close(conn);
      await server.until(() => server.eofs === 1);
      await assert.rejects(conn.writable.getWriter().write(ping));
    } finally {
      await server.close();
    }
  });

  if (closeIdempotent) {
    test(`${name} conn.close() is idempotent`, async () => {
      const server = await startEchoServer();
      try {
        const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
          signal: live(),
        });
        conn.close();
        conn.close();
        dialer.close(conn);
        await server.until(() => server.eofs === 1);
      } finally {
        await server.close();
      }
    });
  }

  test(`${name} close() settles a pending read`, async () => {
    const server = await startEchoServer();
    try {
      const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      const reader = conn.readable.getReader();
      const reading = reader.read();
      dialer.close(conn);
      // Ends or fails, depending on the runtime; it must not hang.
      await reading.then(() => {}, () => {});
      await server.until(() => server.eofs === 1);
    } finally {
      await server.close();
    }
  });

  test(`${name} close() of a connection nobody read from leaves nothing behind`, async () => {
    const server = await startServer({
      onConnection: (socket) => socket.write(pattern(200_000)),
    });
    try {
      const conn = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      await server.until(() => server.connections === 1);
      dialer.close(conn);
      await server.until(() => server.eofs === 1);
    } finally {
      await server.close();
    }
  });
}
