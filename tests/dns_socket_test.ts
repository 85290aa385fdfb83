// The UDP transport of the own DNS client (runtimes/_dns_socket.ts): the
// queries in flight to one server share a socket, at most four in its
// life, each under its own ID; answers are matched by ID and question; a
// query that ends (answer, timeout, abort) leaves the others running and
// the socket closes once none is in flight. Against a bare server written
// here, which records each query's source port, ID and type.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { createSocket, type RemoteInfo } from "node:dgram";
import { DNSError } from "../src/errors.ts";
import { queryAddrs, queryService } from "../runtimes/_dns_client.ts";
import { MAX_QUERIES_PER_SOCKET } from "../runtimes/_dns_socket.ts";
import type { NameServer } from "../runtimes/_dns_common.ts";

interface Received {
  port: number;
  id: number;
  type: number;
  /** The NODATA answer to it (header, question; no records). */
  reply: Uint8Array;
  peer: RemoteInfo;
}

/** The name server at 127.0.0.1:`port`. */
function loopbackServer(port: number): NameServer {
  return {
    ip: "127.0.0.1",
    address: "127.0.0.1",
    port,
    family: 4,
    text: `127.0.0.1:${port}`,
  };
}

/**
 * A server that records every query and answers none by itself: the test
 * answers with `answer(query)` (NODATA), as often as it likes.
 */
async function bareServer() {
  const socket = createSocket("udp4");
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  socket.on("message", (message: Uint8Array, peer: RemoteInfo) => {
    let end = 12;
    while (message[end] !== 0) end += message[end]! + 1;
    end += 5; // root label, QTYPE, QCLASS
    const reply = Uint8Array.from(message.subarray(0, end)); // a copy
    reply[2] = 0x81; // QR, RD
    reply[3] = 0x80; // RA, NOERROR
    reply[10] = 0; // ARCOUNT: no OPT record back
    reply[11] = 0;
    received.push({
      port: peer.port,
      id: (message[0]! << 8) | message[1]!,
      type: (message[end - 4]! << 8) | message[end - 3]!,
      reply,
      peer,
    });
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve) =>
    socket.bind(0, "127.0.0.1", () => resolve())
  );
  const port = socket.address().port;
  const server = loopbackServer(port);
  return {
    server,
    received,
    /** Resolves once `n` queries have arrived. */
    async queries(n: number): Promise<Received[]> {
      while (received.length < n) {
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return received.slice(0, n);
    },
    answer(query: Received, bytes = query.reply): void {
      socket.send(bytes, query.peer.port, query.peer.address);
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

const options = (server: NameServer, timeout = 5000) => ({
  server,
  timeout,
  signal: new AbortController().signal,
});

test("DNS client sends the queries of one turn from one socket, in the order asked, each under its own ID", async () => {
  const dns = await bareServer();
  try {
    const answers = Promise.all([
      queryService("svc.test", {
        ...options(dns.server),
        scheme: "https",
        port: 443,
      }),
      queryAddrs("svc.test", 6, options(dns.server)),
      queryAddrs("svc.test", 4, options(dns.server)),
    ]);
    const queries = await dns.queries(3);
    // The draft's order (service, AAAA, A) on the wire, on every runtime.
    assert.deepEqual(queries.map((q) => q.type), [65, 28, 1]);
    assert.equal(new Set(queries.map((q) => q.port)).size, 1);
    assert.equal(new Set(queries.map((q) => q.id)).size, 3);
    for (const q of queries) dns.answer(q);
    assert.deepEqual(await answers, [[], [], []]);
  } finally {
    await dns.close();
  }
});

test("DNS client puts queries beyond four in flight on another socket", async () => {
  const dns = await bareServer();
  try {
    const count = MAX_QUERIES_PER_SOCKET + 2;
    const answers = Promise.all(
      Array.from(
        { length: count },
        (_, i) => queryAddrs(`n${i}.test`, 4, options(dns.server)),
      ),
    );
    const queries = await dns.queries(count);
    const ports = queries.map((q) => q.port);
    const first = ports.slice(0, MAX_QUERIES_PER_SOCKET);
    const rest = ports.slice(MAX_QUERIES_PER_SOCKET);
    assert.equal(new Set(first).size, 1, `${ports}`);
    assert.equal(new Set(rest).size, 1, `${ports}`);
    assert.notEqual(first[0], rest[0]);
    for (const q of queries) dns.answer(q);
    assert.equal((await answers).length, count);
  } finally {
    await dns.close();
  }
});

test("DNS client ignores a duplicate answer, an unknown ID and another question on a shared socket", async () => {
  const dns = await bareServer();
  try {
    const a = queryAddrs("a.test", 4, options(dns.server));
    const b = queryAddrs("b.test", 4, options(dns.server));
    const [qa, qb] = await dns.queries(2);
    dns.answer(qa!);
    assert.deepEqual(await a, []);
    dns.answer(qa!); // a duplicate of a's answer, b still in flight
    const unknown = Uint8Array.from(qb!.reply);
    unknown[0] = qb!.reply[0]! ^ 0xff; // an ID nobody asked with
    dns.answer(qb!, unknown);
    const wrong = Uint8Array.from(qa!.reply); // b's ID on a's question
    wrong[0] = qb!.reply[0]!;
    wrong[1] = qb!.reply[1]!;
    dns.answer(qb!, wrong);
    let settled = false;
    b.then(() => (settled = true), () => (settled = true));
    // Each datagram above has reached the client before this one.
    const probe = queryAddrs("probe.test", 4, options(dns.server));
    const [, , qp] = await dns.queries(3);
    dns.answer(qp!);
    await probe;
    assert.equal(settled, false);
    dns.answer(qb!);
    assert.deepEqual(await b, []);
  } finally {
    await dns.close();
  }
});

test("DNS client: an aborted and a timed-out query leave the others on their socket running", async () => {
  const dns = await bareServer();
  try {
    const controller = new AbortController();
    const reason = new Error("gave up");
    const aborted = queryAddrs("a.test", 4, {
      ...options(dns.server),
      signal: controller.signal,
    });
    const timedOut = queryAddrs("t.test", 4, options(dns.server, 20));
    const answered = queryAddrs("ok.test", 6, options(dns.server));
    const queries = await dns.queries(3);
    assert.equal(new Set(queries.map((q) => q.port)).size, 1);
    controller.abort(reason);
    await assert.rejects(aborted, (err) => err === reason);
    await assert.rejects(timedOut, (err) => {
      assert.ok(err instanceof DNSError);
      assert.equal(err.isTimeout, true);
      return true;
    });
    dns.answer(queries[2]!);
    assert.deepEqual(await answered, []);
  } finally {
    await dns.close();
  }
});

test("DNS client: a server that is down fails every query on the shared socket, not only the one whose send heard it", async () => {
  // A closed port: the first datagram draws an ICMP port unreachable, which
  // a connected socket reports as the next send's ECONNREFUSED.
  const probe = createSocket("udp4");
  await new Promise<void>((resolve) =>
    probe.bind(0, "127.0.0.1", () => resolve())
  );
  const port = probe.address().port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const server = loopbackServer(port);
  const timeout = 400;
  const started = performance.now();
  const outcomes = await Promise.allSettled([
    queryService("down.test", {
      ...options(server, timeout),
      scheme: "https",
      port: 443,
    }),
    queryAddrs("down.test", 6, options(server, timeout)),
    queryAddrs("down.test", 4, options(server, timeout)),
  ]);
  const elapsed = performance.now() - started;
  // Deno's node:dgram never hears the ICMP error: a server that is down
  // looks like one that does not answer there.
  const expected = "Deno" in globalThis ? /i\/o timeout/ : /connection refused/;
  for (const outcome of outcomes) {
    assert.equal(outcome.status, "rejected");
    const reason = (outcome as PromiseRejectedResult).reason;
    assert.ok(reason instanceof DNSError, String(reason));
    assert.match(reason.message, expected);
  }
  if (!("Deno" in globalThis)) {
    assert.ok(elapsed < timeout, `all failed at once (${elapsed} ms)`);
  }
});
