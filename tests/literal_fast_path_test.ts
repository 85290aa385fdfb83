// The adapters' IP-literal fast path (issue 16): a literal dialled before,
// with the adapter's own options, takes no plan and the dialer's literal
// connect; what it resolves and rejects with is what the planned path gives.
import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { DialError, OpError } from "../src/errors.ts";
import { background, runWithContext, withSignal } from "../src/context.ts";
import { withTrace } from "../src/trace.ts";
import type { Conn } from "../src/types.ts";
import { closedPort, startEchoServer } from "./_tcp_fixtures.ts";

const runtime = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";
const { dial } = await import(`../runtimes/${runtime}.ts`) as {
  dial(address: string, options?: object): Promise<Conn>;
};

test(`${runtime} dial() of a refused IP literal rejects with the same DialError every time`, async () => {
  const port = await closedPort("127.0.0.1");
  const address = `127.0.0.1:${port}`;
  const messages: string[] = [];
  // The first dial plans; the later ones take the fast path.
  for (let i = 0; i < 3; i++) {
    const error = await dial(address).then(
      () => assert.fail("connected to a closed port"),
      (err: unknown) => err,
    );
    assert.ok(error instanceof DialError, String(error));
    assert.equal(error.errors.length, 1);
    const op = error.errors[0];
    assert.ok(op instanceof OpError);
    assert.equal(op.addr, address);
    assert.equal((op.cause as { code?: string }).code, "ECONNREFUSED");
    messages.push(error.message);
  }
  assert.equal(new Set(messages).size, 1);
  assert.match(messages[0]!, /connection refused/);
});

test(`${runtime} dial() of an IP literal dialled before connects with the same addresses`, async () => {
  const server = await startEchoServer();
  try {
    const address = `127.0.0.1:${server.port}`;
    for (let i = 0; i < 3; i++) {
      const conn = await dial(address);
      try {
        assert.equal(conn.remoteAddr.hostname, "127.0.0.1");
        assert.equal(conn.remoteAddr.port, server.port);
        assert.equal(conn.localAddr.hostname, "127.0.0.1");
        await server.until(() => server.connections === i + 1);
        assert.equal(conn.localAddr.port, server.sockets[i]!.remotePort);
      } finally {
        conn.close();
      }
    }
  } finally {
    await server.close();
  }
});

test(`${runtime} dial() of an IP literal dialled before still honours the context's trace and signal`, async () => {
  const server = await startEchoServer();
  try {
    const address = `127.0.0.1:${server.port}`;
    (await dial(address)).close();
    const seen: string[] = [];
    const traced = withTrace(background, {
      connectStart: (info) => void seen.push(`start ${info.addr}`),
      connectDone: (info) => void seen.push(`done ${info.addr}`),
    });
    const conn = await runWithContext(traced, () => dial(address));
    conn.close();
    assert.deepEqual(seen, [`start ${address}`, `done ${address}`]);
    const reason = new Error("the context gave up");
    const aborted = withSignal(background, AbortSignal.abort(reason));
    await assert.rejects(
      runWithContext(aborted, () => dial(address)),
      (err: unknown) => err === reason,
    );
  } finally {
    await server.close();
  }
});

/** Every hook of a dial, as `[hook, info]` pairs (errors by message). */
function recorder() {
  const events: [string, Record<string, unknown>][] = [];
  const hook = (name: string) => (info: Record<string, unknown>) => {
    const copy: Record<string, unknown> = { ...info };
    if (copy.error instanceof Error) copy.error = copy.error.message;
    events.push([name, copy]);
  };
  return {
    events,
    trace: {
      dialStart: hook("dialStart"),
      connectStart: hook("connectStart"),
      connectDone: hook("connectDone"),
      dialDone: hook("dialDone"),
    },
  };
}

test(`${runtime} dial(literal, { trace }) fires the same hooks with the same info on the planned and the fast path`, async () => {
  const server = await startEchoServer();
  try {
    const address = `127.0.0.1:${server.port}`;
    const runs: [string, Record<string, unknown>][][] = [];
    // The first dial of the address plans; the later ones take the short
    // way (no plan) — and one with a timeout always plans.
    for (const options of [{}, {}, { timeout: 5_000 }]) {
      const { events, trace } = recorder();
      const conn = await dial(address, { ...options, trace });
      conn.close();
      runs.push(events);
    }
    const expected = [
      ["dialStart", { network: "tcp", address }],
      ["connectStart", {
        network: "tcp",
        addr: address,
        family: 4,
        attempt: 0,
        cause: "first",
      }],
      ["connectDone", { network: "tcp", addr: address, family: 4, attempt: 0 }],
      ["dialDone", {
        network: "tcp",
        address,
        addr: address,
        family: 4,
        attempt: 0,
      }],
    ];
    for (const events of runs) assert.deepEqual(events, expected);
  } finally {
    await server.close();
  }
});

test(`${runtime} dial(literal, { trace }) of a refused literal reports the same failure on the fast path`, async () => {
  const port = await closedPort("127.0.0.1");
  const address = `127.0.0.1:${port}`;
  const runs: [string, Record<string, unknown>][][] = [];
  const messages: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { events, trace } = recorder();
    const error = await dial(address, { trace }).then(
      () => assert.fail("connected to a closed port"),
      (err: unknown) => err,
    );
    assert.ok(error instanceof DialError, String(error));
    messages.push(error.message);
    runs.push(events);
  }
  assert.equal(new Set(messages).size, 1);
  assert.match(messages[0]!, /connection refused/);
  for (const events of runs) {
    assert.deepEqual(events.map(([name]) => name), [
      "dialStart",
      "connectStart",
      "connectDone",
      "dialDone",
    ]);
    assert.equal(
      events[2]![1].error,
      `dial tcp ${address}: ${
        /connect: connection refused/.exec(messages[0]!)![0]
      }`,
    );
    assert.equal(events[3]![1].error, messages[0]);
  }
  assert.deepEqual(runs[1], runs[0]);
  assert.deepEqual(runs[2], runs[0]);
});

test(`${runtime} dial(literal, { trace }) dialled before composes the context's trace and checks the trace`, async () => {
  const server = await startEchoServer();
  try {
    const address = `127.0.0.1:${server.port}`;
    (await dial(address, { trace: {} })).close();
    const seen: string[] = [];
    const outer = withTrace(background, {
      connectStart: () => void seen.push("context start"),
      dialDone: () => void seen.push("context done"),
    });
    const conn = await runWithContext(outer, () =>
      dial(address, {
        trace: {
          connectStart: () => void seen.push("options start"),
          dialDone: () => void seen.push("options done"),
        },
      }));
    conn.close();
    // withTrace: the newer (the options') hook first, then the context's.
    assert.deepEqual(seen, [
      "options start",
      "context start",
      "options done",
      "context done",
    ]);
    (await dial(address, { trace: undefined })).close();
    await assert.rejects(
      dial(address, { trace: 5 }),
      (err: unknown) =>
        err instanceof TypeError && /options\.trace 5/.test(err.message),
    );
    await assert.rejects(
      dial(address, { trace: null }),
      (err: unknown) => err instanceof TypeError,
    );
  } finally {
    await server.close();
  }
});
