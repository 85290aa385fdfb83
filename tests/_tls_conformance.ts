/**
 * The TLS conformance suite every runtime adapter passes: the dialer's
 * `startTls()` on a real loopback connection (SNI, ALPN, IP literals, each
 * failure kind with Go's text, aborts and timeouts mid-handshake, nothing
 * left behind), then the adapter's `dial()` with the `tls` option (hooks,
 * errors, and the TLS success-point race between a path that stalls in TLS
 * and one that works). Each `tls_conformance_<runtime>_test.ts` runs it on
 * its own runtime.
 *
 * @module
 */

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  type Dialer,
  DialError,
  type Endpoint,
  type IPAddr,
  OpError,
  type Resolver,
  type StartTLSOptions,
  TLSError,
  type TLSErrorKind,
  type Trace,
} from "../mod.ts";
import type { ConnUnderTest } from "./_dialer_conformance.ts";
import type { LoopbackHost } from "./_tcp_fixtures.ts";
import {
  CERT_NAMES,
  type CertChoice,
  OTHER_CA,
  type StallServer,
  startStallServer,
  startTlsServer,
  TEST_CA,
  type TlsServer,
} from "./_tls_fixtures.ts";

/** A TLS connection as the suite sees it. */
export type TLSConnUnderTest = ConnUnderTest & {
  readonly alpnProtocol: string | null;
};

/** Options of the adapter's `dial()` the suite uses. */
export interface TLSDialOptions {
  /** The resolver. */
  resolver?: Resolver;
  /** The TLS settings. */
  tls: {
    serverName?: string;
    alpnProtocols?: string[];
    caCerts?: string[];
    successPoint?: "tcp" | "tls";
  };
  /** The dial's trace. */
  trace?: Trace;
  /** The dial's timeout, ms. */
  timeout?: number;
  /** The dial's signal. */
  signal?: AbortSignal;
  /** The Connection Attempt Delay, ms. */
  attemptDelay?: number;
  /** Connection history; off in the race tests. */
  history?: false;
}

/** The adapter under test. */
export interface TLSRuntimeUnderTest {
  /** Prefix of every test name: the runtime. */
  name: string;
  /** The adapter's dialer. */
  dialer: Dialer<ConnUnderTest>;
  /** The adapter's `dial()`, called with the `tls` option. */
  dial: (address: string, options: TLSDialOptions) => Promise<ConnUnderTest>;
  /**
   * Whether a handshake given up midway (abort, timeout, a lost race) also
   * closes the kernel socket at once. Deno 2.9 cannot: closing a `TlsConn`
   * whose handshake is pending rejects the handshake and frees the
   * resource, but Deno's background handshake task keeps the TCP socket
   * open until the peer answers or closes.
   * @default {true}
   */
  handshakeAbortClosesSocket?: boolean;
}

// ── helpers ──────────────────────────────────────────────────────────────

function endpoint(host: LoopbackHost, port: number): Endpoint {
  return { address: host, family: host === "::1" ? 6 : 4, port };
}

function live(): AbortSignal {
  return new AbortController().signal;
}

const CERT_IS_VALID_FOR =
  `tls: failed to verify certificate: x509: certificate is valid for ${
    CERT_NAMES.join(", ")
  }, not wrong.test`;
const UNKNOWN_AUTHORITY =
  "tls: failed to verify certificate: x509: certificate signed by unknown authority";
const EXPIRED =
  "tls: failed to verify certificate: x509: certificate has expired or is not yet valid";

/** Asserts a TLSError of `kind` (and `message` when given); returns it. */
function assertTLSError(
  err: unknown,
  kind: TLSErrorKind,
  message?: string,
): TLSError {
  assert.ok(err instanceof TLSError, `expected a TLSError, got ${err}`);
  assert.equal(err.kind, kind, `kind of "${err.message}"`);
  if (message !== undefined) assert.equal(err.message, message);
  assert.ok(err.cause !== undefined, "the runtime's error is the cause");
  return err;
}

/** The runtime's own text of a TLSError's cause, for the diagnostics. */
function causeText(err: TLSError): string {
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  const code = cause?.code === undefined ? "" : `[${String(cause.code)}] `;
  return `${code}${String(cause?.message ?? cause)}`.replace(/\n/g, " ");
}

/** Writes `text` and reads as many bytes back. */
async function echo(conn: ConnUnderTest, text: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  const writer = conn.writable.getWriter();
  const reader = conn.readable.getReader();
  try {
    await writer.write(bytes);
    let got = "";
    const decoder = new TextDecoder();
    while (got.length < text.length) {
      const { value, done } = await reader.read();
      if (done) break;
      got += decoder.decode(value, { stream: true });
    }
    return got;
  } finally {
    writer.releaseLock();
    reader.releaseLock();
  }
}

/** An AbortSignal whose listeners are counted. */
function countingSignal(): {
  controller: AbortController;
  active: Set<unknown>;
} {
  const controller = new AbortController();
  const active = new Set<unknown>();
  const signal = controller.signal;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, fn: unknown, opts: unknown) => {
    if (type === "abort") active.add(fn);
    add(type, fn as EventListener, opts as AddEventListenerOptions);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, fn: unknown, opts: unknown) => {
    if (type === "abort") active.delete(fn);
    remove(type, fn as EventListener, opts as EventListenerOptions);
  }) as typeof signal.removeEventListener;
  return { controller, active };
}

/** A resolver answering `name` from a fixed table, for both families. */
function tableResolver(table: Record<string, string[]>): Resolver {
  return {
    lookup(host, family, { signal }) {
      if (signal.aborted) return Promise.reject(signal.reason);
      const addrs: IPAddr[] = (table[host] ?? [])
        .map((address): IPAddr => ({
          address,
          family: address.includes(":") ? 6 : 4,
        }))
        .filter((a) => a.family === family);
      return Promise.resolve(addrs);
    },
  };
}

/** The first TLSError inside a dial's rejection. */
function tlsErrorOf(err: unknown): TLSError | undefined {
  if (err instanceof TLSError) return err;
  if (err instanceof DialError) {
    for (const e of err.errors) {
      if (e instanceof OpError && e.cause instanceof TLSError) return e.cause;
    }
  }
  return undefined;
}

/** A TLS server and a stall server on the same port: 127.0.0.1 and ::1. */
async function racePair(): Promise<{ tls: TlsServer; stall: StallServer }> {
  for (let tries = 0;; tries++) {
    const tls = await startTlsServer({ host: "127.0.0.1" });
    try {
      const stall = await startStallServer({ host: "::1", port: tls.port });
      return { tls, stall };
    } catch (err) {
      await tls.close();
      if ((err as { code?: string }).code !== "EADDRINUSE" || tries > 20) {
        throw err;
      }
    }
  }
}

// ── the suite ─────────────────────────────────────────────────────────────

/**
 * Registers the TLS conformance tests for one adapter.
 *
 * @param runtime The adapter under test.
 */
export function tlsConformance(runtime: TLSRuntimeUnderTest): void {
  const { name, dialer } = runtime;
  const abortCloses = runtime.handshakeAbortClosesSocket ?? true;

  /**
   * After a handshake was given up: waits until `server` saw the client
   * close, or, where the runtime cannot close it (Deno), says so.
   */
  async function closedAfterAbort(
    server: StallServer,
    count: number,
    t: { diagnostic(m: string): void },
  ): Promise<void> {
    if (abortCloses) {
      await server.until(() => server.eofs === count);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
    t.diagnostic(
      `${name}: after the abort the server has seen ${server.eofs} of ${count} ` +
        "client sockets close: this runtime keeps a socket whose handshake " +
        "was given up open until the peer closes it (the server's close() " +
        "ends it here)",
    );
  }
  const startTls = (conn: ConnUnderTest, options: StartTLSOptions) => {
    assert.equal(typeof dialer.startTls, "function", "dialer.startTls");
    return dialer.startTls!(conn, options);
  };

  /** Connects TCP to `server` and runs startTls with `options`. */
  async function handshake(
    server: { host: LoopbackHost; port: number },
    options: Partial<StartTLSOptions>,
  ) {
    const tcp = await dialer.connect(endpoint(server.host, server.port), {
      signal: live(),
    });
    return startTls(tcp, {
      serverName: "tls.test",
      caCerts: [TEST_CA],
      signal: live(),
      ...options,
    });
  }

  /** Runs a handshake that must fail; returns the TLSError. */
  async function failing(
    cert: CertChoice,
    options: Partial<StartTLSOptions>,
    kind: TLSErrorKind,
    message: string | undefined,
    t: { diagnostic(m: string): void },
    serverAlpn?: string[],
  ): Promise<void> {
    const server = await startTlsServer({ cert, alpnProtocols: serverAlpn });
    try {
      const err = await handshake(server, options).then(
        (r) => {
          r.conn.close();
          assert.fail("the handshake succeeded");
        },
        (e: unknown) => e,
      );
      const tlsErr = assertTLSError(err, kind, message);
      t.diagnostic(`${name}: ${tlsErr.message} ← ${causeText(tlsErr)}`);
      // The client's socket is closed: the server sees it go.
      await server.until(() => server.closed === server.connections);
      assert.equal(server.handshakes.length, 0, "no handshake completed");
    } finally {
      await server.close();
    }
  }

  test(`${name} startTls() sends SNI, negotiates ALPN and echoes data through the TLS conn`, async () => {
    const server = await startTlsServer({ alpnProtocols: ["h2", "x-test"] });
    try {
      const tcp = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      const result = await startTls(tcp, {
        serverName: "tls.test",
        alpnProtocols: ["x-test", "http/1.1"],
        caCerts: [TEST_CA],
        signal: live(),
      });
      const conn = result.conn as TLSConnUnderTest;
      try {
        assert.equal(result.alpnProtocol, "x-test");
        assert.equal(conn.alpnProtocol, "x-test");
        if (result.tlsVersion !== undefined) {
          assert.match(result.tlsVersion, /^TLSv1\.[23]$/);
        }
        // TLS 1.3: the server's side completes after the client's.
        await server.until(() => server.handshakes.length === 1);
        assert.deepEqual(server.handshakes, [
          { servername: "tls.test", alpnProtocol: "x-test" },
        ]);
        assert.equal(conn.remoteAddr.hostname, "127.0.0.1");
        assert.equal(conn.remoteAddr.port, server.port);
        assert.equal(conn.localAddr.hostname, "127.0.0.1");
        assert.equal(await echo(conn, "hello over tls"), "hello over tls");
      } finally {
        dialer.close(conn);
      }
      await server.until(() => server.closed === 1);
    } finally {
      await server.close();
    }
  });

  test(`${name} startTls() without ALPN reports alpnProtocol null`, async () => {
    const server = await startTlsServer();
    try {
      const result = await handshake(server, {});
      const conn = result.conn as TLSConnUnderTest;
      assert.equal(result.alpnProtocol, null);
      assert.equal(conn.alpnProtocol, null);
      assert.equal(await echo(conn, "ping"), "ping");
      dialer.close(conn);
      await server.until(() => server.closed === 1);
    } finally {
      await server.close();
    }
  });

  for (const host of ["127.0.0.1", "::1"] as const) {
    test(`${name} startTls() to the IP literal ${host} checks the IP SAN`, async () => {
      const server = await startTlsServer({ host });
      try {
        const result = await handshake(server, { serverName: host });
        try {
          assert.equal(await echo(result.conn, "by address"), "by address");
        } finally {
          dialer.close(result.conn);
        }
      } finally {
        await server.close();
      }
    });

    test(`${name} startTls() to the IP literal ${host} sends no SNI`, async () => {
      // Read from the ClientHello itself, so the server's runtime does not
      // matter.
      const server = await startStallServer({ host });
      try {
        const tcp = await dialer.connect(endpoint(host, server.port), {
          signal: live(),
        });
        const controller = new AbortController();
        const shaking = startTls(tcp, {
          serverName: host,
          caCerts: [TEST_CA],
          signal: controller.signal,
        });
        await server.until(() => server.snis.length === 1);
        controller.abort(new Error("seen enough"));
        await shaking.catch(() => {});
        assert.deepEqual(server.snis, [false]);
      } finally {
        await server.close();
      }
    });
  }

  test(`${name} startTls() sends the host name as SNI in the ClientHello`, async () => {
    const server = await startStallServer();
    try {
      const tcp = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      const controller = new AbortController();
      const shaking = startTls(tcp, {
        serverName: "tls.test",
        signal: controller.signal,
      });
      await server.until(() => server.snis.length === 1);
      controller.abort(new Error("seen enough"));
      await shaking.catch(() => {});
      assert.deepEqual(server.snis, ["tls.test"]);
    } finally {
      await server.close();
    }
  });

  test(`${name} startTls() with a wildcard name (a.tls.test) verifies`, async () => {
    const server = await startTlsServer();
    try {
      const result = await handshake(server, { serverName: "a.tls.test" });
      await server.until(() => server.handshakes.length === 1);
      assert.deepEqual(server.handshakes.map((h) => h.servername), [
        "a.tls.test",
      ]);
      dialer.close(result.conn);
    } finally {
      await server.close();
    }
  });

  test(`${name} startTls() to a wrong host name rejects with TLSError "hostname" listing the certificate's names`, async (t) => {
    await failing(
      "server",
      { serverName: "wrong.test" },
      "hostname",
      CERT_IS_VALID_FOR,
      t,
    );
  });

  test(`${name} startTls() to a wrong IP literal rejects with TLSError "hostname" listing the IP SANs`, async (t) => {
    await failing(
      "server",
      { serverName: "127.0.0.2" },
      "hostname",
      "tls: failed to verify certificate: x509: certificate is valid for 127.0.0.1, ::1, not 127.0.0.2",
      t,
    );
  });

  test(`${name} startTls() with a certificate from an unknown CA rejects with TLSError "untrusted"`, async (t) => {
    await failing("untrusted", {}, "untrusted", UNKNOWN_AUTHORITY, t);
  });

  test(`${name} startTls() trusting only an unrelated CA rejects with TLSError "untrusted"`, async (t) => {
    await failing(
      "server",
      { caCerts: [OTHER_CA] },
      "untrusted",
      UNKNOWN_AUTHORITY,
      t,
    );
  });

  test(`${name} startTls() without caCerts does not trust the test CA`, async (t) => {
    await failing(
      "server",
      { caCerts: undefined },
      "untrusted",
      UNKNOWN_AUTHORITY,
      t,
    );
  });

  test(`${name} startTls() with an expired certificate rejects with TLSError "expired"`, async (t) => {
    await failing("expired", {}, "expired", EXPIRED, t);
  });

  test(`${name} startTls() when the server accepts none of the ALPN protocols rejects with TLSError "alpn"`, async (t) => {
    await failing(
      "server",
      { alpnProtocols: ["h2"] },
      "alpn",
      "tls: no application protocol",
      t,
      ["x-other"],
    );
  });

  test(`${name} startTls() when the server hangs up after the ClientHello rejects with TLSError "handshake"`, async (t) => {
    const server = await startStallServer({ closeOnHello: true });
    try {
      const err = await handshake(server, {}).then(
        (r) => {
          r.conn.close();
          assert.fail("the handshake succeeded");
        },
        (e: unknown) => e,
      );
      const tlsErr = assertTLSError(err, "handshake");
      assert.match(tlsErr.message, /^tls: /);
      t.diagnostic(`${name}: ${tlsErr.message} ← ${causeText(tlsErr)}`);
      assert.ok(server.received > 0, "the ClientHello arrived");
    } finally {
      await server.close();
    }
  });

  test(`${name} startTls() aborted while the server stalls rejects with the reason and closes the socket`, async (t) => {
    const server = await startStallServer();
    try {
      const tcp = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      const counted = countingSignal();
      const shaking = startTls(tcp, {
        serverName: "tls.test",
        caCerts: [TEST_CA],
        signal: counted.controller.signal,
      });
      let settled = false;
      shaking.then(() => settled = true, () => settled = true);
      // The ClientHello reached the server: the handshake is under way.
      await server.until(() => server.received > 0);
      assert.equal(settled, false, "the handshake hangs");
      const reason = new Error("gave up on the handshake");
      counted.controller.abort(reason);
      await assert.rejects(shaking, (err: unknown) => err === reason);
      assert.equal(counted.active.size, 0, "no abort listener left");
      await closedAfterAbort(server, 1, t);
    } finally {
      await server.close();
    }
  });

  test(`${name} startTls() with an already aborted signal rejects with the reason and closes the socket`, async () => {
    const server = await startStallServer();
    try {
      const tcp = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      await server.until(() => server.connections === 1);
      const reason = new Error("too late");
      await assert.rejects(
        startTls(tcp, {
          serverName: "tls.test",
          signal: AbortSignal.abort(reason),
        }),
        (err: unknown) => err === reason,
      );
      await server.until(() => server.eofs === 1);
      assert.equal(server.received, 0, "no ClientHello was sent");
    } finally {
      await server.close();
    }
  });

  test(`${name} startTls() times out with the signal's TimeoutError while the server stalls`, async (t) => {
    const server = await startStallServer();
    try {
      const tcp = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      await assert.rejects(
        startTls(tcp, {
          serverName: "tls.test",
          caCerts: [TEST_CA],
          signal: AbortSignal.timeout(50),
        }),
        (err: unknown) => {
          assert.equal((err as Error).name, "TimeoutError");
          return true;
        },
      );
      await closedAfterAbort(server, 1, t);
    } finally {
      await server.close();
    }
  });

  test(`${name} startTls() stops watching the signal once the handshake is done`, async () => {
    const server = await startTlsServer();
    try {
      const tcp = await dialer.connect(endpoint("127.0.0.1", server.port), {
        signal: live(),
      });
      const counted = countingSignal();
      const result = await startTls(tcp, {
        serverName: "tls.test",
        caCerts: [TEST_CA],
        signal: counted.controller.signal,
      });
      assert.equal(counted.active.size, 0, "no abort listener left");
      counted.controller.abort(new Error("after the fact"));
      assert.equal(await echo(result.conn, "still open"), "still open");
      dialer.close(result.conn);
      dialer.close(result.conn);
      await server.until(() => server.closed === 1);
    } finally {
      await server.close();
    }
  });

  test(`${name} startTls() conns keep data the server sends first`, async () => {
    // The server speaks first (a greeting) right after the handshake.
    const server = await startTlsServer({ onSecure: "close" });
    try {
      const result = await handshake(server, {});
      const reader = result.conn.readable.getReader();
      const { done } = await reader.read();
      assert.equal(done, true, "the server's close reads as EOF");
      reader.releaseLock();
      dialer.close(result.conn);
    } finally {
      await server.close();
    }
  });

  // ── dial() with the tls option ──────────────────────────────────────────

  test(`${name} dial() with tls fires tlsHandshakeStart/Done once each and returns the TLS conn`, async (t) => {
    const server = await startTlsServer({ alpnProtocols: ["h2"] });
    try {
      const events: string[] = [];
      const versions: (string | undefined)[] = [];
      const trace: Trace = {
        connectDone: (i) =>
          events.push(`connectDone ${i.addr}${i.error ? " error" : ""}`),
        tlsHandshakeStart: (i) =>
          events.push(
            `tlsStart ${i.serverName} ${i.addr} ${i.family} #${i.attempt}`,
          ),
        tlsHandshakeDone: (i) => {
          versions.push(i.tlsVersion);
          events.push(
            `tlsDone ${i.serverName} ${i.addr} ${i.family} #${i.attempt} alpn=${i.alpnProtocol}${
              i.error ? ` error=${i.error.message}` : ""
            }`,
          );
        },
      };
      const conn = await runtime.dial(`tls.test:${server.port}`, {
        resolver: tableResolver({ "tls.test": ["127.0.0.1"] }),
        tls: { caCerts: [TEST_CA], alpnProtocols: ["h2"] },
        trace,
      }) as TLSConnUnderTest;
      try {
        const addr = `127.0.0.1:${server.port}`;
        assert.deepEqual(events, [
          `connectDone ${addr}`,
          `tlsStart tls.test ${addr} 4 #0`,
          `tlsDone tls.test ${addr} 4 #0 alpn=h2`,
        ]);
        assert.equal(conn.alpnProtocol, "h2");
        assert.equal(versions.length, 1);
        if (versions[0] === undefined) {
          t.diagnostic(`${name}: the runtime does not tell the TLS version`);
        } else {
          assert.equal(versions[0], "TLSv1.3");
        }
        await server.until(() => server.handshakes.length === 1);
        assert.deepEqual(server.handshakes, [
          { servername: "tls.test", alpnProtocol: "h2" },
        ]);
        assert.equal(await echo(conn, "via dial"), "via dial");
      } finally {
        conn.close();
      }
    } finally {
      await server.close();
    }
  });

  test(`${name} dial() with tls of an IP literal verifies it against the IP SANs`, async () => {
    const server = await startTlsServer({ host: "::1" });
    try {
      const names: string[] = [];
      const conn = await runtime.dial(`[::1]:${server.port}`, {
        tls: { caCerts: [TEST_CA] },
        trace: { tlsHandshakeStart: (i) => names.push(i.serverName) },
      }) as TLSConnUnderTest;
      try {
        assert.deepEqual(names, ["::1"]);
        assert.equal(conn.alpnProtocol, null);
        assert.equal(await echo(conn, "by address"), "by address");
      } finally {
        conn.close();
      }
    } finally {
      await server.close();
    }
  });

  test(`${name} dial() with tls to a wrong name rejects with a DialError carrying the TLSError`, async () => {
    const server = await startTlsServer();
    try {
      const done: (Error | undefined)[] = [];
      const err = await runtime.dial(`wrong.test:${server.port}`, {
        resolver: tableResolver({ "wrong.test": ["127.0.0.1"] }),
        tls: { caCerts: [TEST_CA] },
        trace: { tlsHandshakeDone: (i) => done.push(i.error) },
      }).then(
        (c) => {
          c.close();
          assert.fail("the dial succeeded");
        },
        (e: unknown) => e,
      );
      assert.ok(err instanceof DialError, `got ${err}`);
      const tlsErr = tlsErrorOf(err);
      assertTLSError(tlsErr, "hostname", CERT_IS_VALID_FOR);
      assert.equal(
        (err as DialError).errors[0].message,
        `dial tcp 127.0.0.1:${server.port}: ${CERT_IS_VALID_FOR}`,
      );
      assert.equal(done.length, 1);
      assert.equal(done[0], tlsErr);
      await server.until(() => server.closed === server.connections);
    } finally {
      await server.close();
    }
  });

  test(`${name} dial() with tls aborted mid-handshake rejects with the reason and closes the socket`, async (t) => {
    const server = await startStallServer();
    try {
      const controller = new AbortController();
      const started: string[] = [];
      const done: (Error | undefined)[] = [];
      let hookFired!: () => void;
      const fired = new Promise<void>((resolve) => hookFired = resolve);
      const dialing = runtime.dial(`tls.test:${server.port}`, {
        resolver: tableResolver({ "tls.test": ["127.0.0.1"] }),
        tls: { caCerts: [TEST_CA] },
        signal: controller.signal,
        trace: {
          tlsHandshakeStart: (i) => started.push(i.serverName),
          tlsHandshakeDone: (i) => {
            done.push(i.error);
            hookFired();
          },
        },
      });
      await server.until(() => server.snis.length === 1);
      assert.deepEqual(server.snis, ["tls.test"]);
      assert.deepEqual(started, ["tls.test"]);
      const reason = new Error("user gave up");
      controller.abort(reason);
      await assert.rejects(dialing, (err: unknown) => err === reason);
      await fired;
      assert.equal(done.length, 1);
      assert.ok(done[0] !== undefined, "tlsHandshakeDone carries an error");
      await closedAfterAbort(server, 1, t);
    } finally {
      await server.close();
    }
  });

  test(`${name} dial() with tls and a timeout gives up a stalled handshake and closes the socket`, async (t) => {
    const server = await startStallServer();
    try {
      const done: (Error | undefined)[] = [];
      let hookFired!: () => void;
      const fired = new Promise<void>((resolve) => hookFired = resolve);
      await assert.rejects(
        runtime.dial(`127.0.0.1:${server.port}`, {
          tls: { caCerts: [TEST_CA] },
          timeout: 100,
          trace: {
            tlsHandshakeDone: (i) => {
              done.push(i.error);
              hookFired();
            },
          },
        }),
        (err: unknown) => {
          assert.equal((err as Error).name, "TimeoutError");
          return true;
        },
      );
      // The hook may fire after the dial rejected (once the runtime has
      // given the handshake up), as a loser's connectDone may.
      await fired;
      assert.equal(done.length, 1);
      assert.ok(done[0] !== undefined, "tlsHandshakeDone carries an error");
      await closedAfterAbort(server, 1, t);
    } finally {
      await server.close();
    }
  });

  test(`${name} dial() with successPoint "tls" wins over IPv4 when ::1 connects but stalls in TLS`, async (t) => {
    const { tls, stall } = await racePair();
    try {
      const events: string[] = [];
      const trace: Trace = {
        connectStart: (i) => events.push(`connectStart ${i.addr}`),
        connectDone: (i) =>
          events.push(`connectDone ${i.addr}${i.error ? " error" : ""}`),
        tlsHandshakeStart: (i) => events.push(`tlsStart ${i.addr}`),
        tlsHandshakeDone: (i) =>
          events.push(`tlsDone ${i.addr}${i.error ? " error" : ""}`),
      };
      const conn = await runtime.dial(`race.test:${tls.port}`, {
        resolver: tableResolver({ "race.test": ["::1", "127.0.0.1"] }),
        tls: { caCerts: [TEST_CA], successPoint: "tls" },
        attemptDelay: 50,
        history: false,
        trace,
      });
      try {
        assert.equal(conn.remoteAddr.hostname, "127.0.0.1");
        assert.equal(await echo(conn, "v4 won"), "v4 won");
        const v6 = `[::1]:${tls.port}`;
        const v4 = `127.0.0.1:${tls.port}`;
        // ::1 connected and started its handshake first, then IPv4 started
        // after the attempt delay and won; ::1's handshake was given up.
        assert.deepEqual(events.slice(0, 3), [
          `connectStart ${v6}`,
          `connectDone ${v6}`,
          `tlsStart ${v6}`,
        ]);
        assert.ok(events.includes(`tlsDone ${v4}`), events.join("\n"));
        await closedAfterAbort(stall, 1, t);
        assert.ok(
          events.includes(`tlsDone ${v6} error`),
          "the loser's handshake is reported as given up",
        );
        assert.equal(
          events.filter((e) => e.startsWith("tlsStart")).length,
          2,
        );
        assert.equal(stall.received > 0, true, "::1 got a ClientHello");
      } finally {
        conn.close();
      }
    } finally {
      await tls.close();
      await stall.close();
    }
  });

  test(`${name} dial() with the default successPoint "tcp" picks ::1 and times out in its handshake`, async (t) => {
    const { tls, stall } = await racePair();
    try {
      const started: string[] = [];
      await assert.rejects(
        runtime.dial(`race.test:${tls.port}`, {
          resolver: tableResolver({ "race.test": ["::1", "127.0.0.1"] }),
          tls: { caCerts: [TEST_CA] },
          // IPv4 cannot start before the timeout: ::1 wins the TCP race
          // however slow the machine is.
          attemptDelay: 2_000,
          history: false,
          timeout: 300,
          trace: { tlsHandshakeStart: (i) => started.push(i.addr) },
        }),
        (err: unknown) => {
          assert.equal((err as Error).name, "TimeoutError");
          return true;
        },
      );
      assert.deepEqual(started, [`[::1]:${tls.port}`]);
      assert.equal(tls.handshakes.length, 0, "IPv4 never did TLS");
      await closedAfterAbort(stall, 1, t);
    } finally {
      await tls.close();
      await stall.close();
    }
  });
}
