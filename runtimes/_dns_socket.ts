/**
 * The UDP transport of the own stub resolver (`_dns_client.ts`): the
 * queries in flight to one name server share a connected `node:dgram`
 * socket, a few at a time, each with its own random ID, timer and abort
 * listener. Not part of the public API.
 *
 * Why share, and how little. A socket per query costs a socket, a bind, a
 * connect and a close — four system calls and a libuv handle — for one
 * datagram each way; a dial asks two or three questions at once (AAAA, A,
 * and HTTPS with `service`), so that was most of what a query cost beside
 * its send and receive. RFC 5452 §9.2 asks for an unpredictable source
 * port, an unpredictable ID over the whole 16 bits, and different source
 * ports at once for outstanding queries. So a socket is shared only while
 * it has queries in flight and by at most {@linkcode MAX_QUERIES_PER_SOCKET}
 * queries in its life (a dial's service, AAAA and A queries and one
 * follow-up): it closes as soon as none is in flight, its source port
 * (chosen by the kernel) lives about one round trip as a per-query
 * socket's did, and queries beyond the cap get another socket and another
 * port. A forged answer still has to hit the port, the ID of one query on
 * it and that query's question: the answers one spoofed datagram can match
 * are as few as with a socket per query (IDs are unique per socket, and
 * the question is checked): k queries in flight are k (port, ID) pairs to
 * hit either way, so a forged datagram's odds stay k in ports × 65,536.
 * This relaxes §9.2's "different source ports" for the few questions of a
 * dial only, as stub resolvers do: glibc sends A and AAAA over one socket,
 * c-ares one socket per server for every query (no cap by default).
 *
 * @module
 */

import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type { NameServer } from "./_dns_common.ts";

/**
 * How many queries one socket carries in its life at most: the three of a
 * dial (service, AAAA, A) and one follow-up.
 */
export const MAX_QUERIES_PER_SOCKET = 4;

/** One query handed to {@linkcode sendQuery}. */
export interface QueryExchange {
  /** The server to ask. */
  server: NameServer;
  /** Milliseconds to wait for the answer. */
  timeout: number;
  /** Aborts the query: it rejects with `signal.reason` at once. */
  signal: AbortSignal;
  /** The query message, its ID (bytes 0–1) written by {@linkcode sendQuery}. */
  packet: Uint8Array;
  /**
   * Reads a datagram that carries this query's ID: `undefined` when it does
   * not answer the question (it is ignored and the query keeps waiting),
   * else the outcome.
   */
  answer(message: Uint8Array, id: number): Settled | undefined;
  /** The rejection of a timeout. */
  timedOut(): unknown;
  /** The rejection for a socket error (`ECONNREFUSED`…). */
  socketError(err: Error): unknown;
}

/** How a query ends: a value, or an error to reject with. */
export type Settled = { value: unknown } | { error: unknown };

interface Pending {
  readonly query: QueryExchange;
  readonly id: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly onAbort: () => void;
}

/**
 * Deno's `node:dgram` (2.9) puts datagrams sent from the connect callback on
 * the wire last first (sends from later turns keep their order), so the
 * queries waiting for the connect are sent in reverse there: a dial's
 * service query must not go last, as the move-on rule waits for its answer.
 * tests/dns_socket_test.ts checks the wire order on every runtime.
 */
const CONNECT_SENDS_REVERSED = "Deno" in globalThis;

/** The socket per server that still takes queries. */
const open = new Map<string, QuerySocket>();

/** Random IDs drawn in batches: one CSPRNG call per 64 queries. */
const ids = new Uint16Array(64);
let nextId = ids.length;

function randomId(): number {
  if (nextId === ids.length) {
    crypto.getRandomValues(ids);
    nextId = 0;
  }
  return ids[nextId++]!;
}

/** One connected UDP socket and the queries in flight on it, by ID. */
class QuerySocket {
  readonly #key: string;
  readonly #server: NameServer;
  readonly #socket: Socket;
  readonly #pending = new Map<number, Pending>();
  /** Queries waiting for the connect to finish. */
  #outbox: Pending[] | undefined = [];
  #uses = 0;
  #closed = false;

  constructor(key: string, server: NameServer) {
    this.#key = key;
    this.#server = server;
    const socket = createSocket(server.family === 6 ? "udp6" : "udp4");
    this.#socket = socket;
    // The "error" listener stays after close: an error event without a
    // listener would throw.
    socket.on("error", (err: Error) => this.#fail(err));
    socket.on("message", (message: Uint8Array, peer: RemoteInfo) => {
      this.#message(message, peer);
    });
    // A connected UDP socket hears ICMP "port unreachable" as ECONNREFUSED
    // (Node, Bun), so a server that is not running fails at once. Deno's
    // node:dgram does not report it: there it is a timeout.
    try {
      socket.connect(server.port, server.address, () => this.#connected());
    } catch (err) {
      // Reported once the queries of this turn have joined.
      queueMicrotask(() => this.#fail(err as Error));
    }
  }

  /** Whether another query may join. */
  get joinable(): boolean {
    return !this.#closed && this.#uses < MAX_QUERIES_PER_SOCKET;
  }

  add(query: QueryExchange): Promise<unknown> {
    this.#uses++;
    if (this.#uses >= MAX_QUERIES_PER_SOCKET) this.#unlist();
    let id = randomId();
    while (this.#pending.has(id)) id = randomId();
    query.packet[0] = id >> 8;
    query.packet[1] = id & 0xff;
    return new Promise((resolve, reject) => {
      const { signal } = query;
      const onAbort = () => this.#settle(pending, { error: signal.reason });
      const timer = setTimeout(
        () => this.#settle(pending, { error: query.timedOut() }),
        query.timeout,
      );
      const pending: Pending = { query, id, resolve, reject, timer, onAbort };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, pending);
      if (this.#outbox !== undefined) this.#outbox.push(pending);
      else this.#send(pending);
    });
  }

  #connected(): void {
    const outbox = this.#outbox;
    this.#outbox = undefined;
    if (outbox === undefined || this.#closed) return;
    // In the order they were asked (the draft's: service, AAAA, A).
    const last = outbox.length - 1;
    for (let i = 0; i <= last; i++) {
      const pending = outbox[CONNECT_SENDS_REVERSED ? last - i : i]!;
      if (this.#pending.get(pending.id) === pending) this.#send(pending);
    }
  }

  /**
   * Sends one query. ECONNREFUSED on a send is the server's, not the
   * query's: on a connected socket the ICMP "port unreachable" an earlier
   * datagram drew comes back as the next send's error (Linux keeps one
   * pending error per socket), so every query on the socket fails, not
   * only the one whose send reported it (the others would wait for their
   * timeout). Other send errors (ENOBUFS, EPERM from a firewall) fail the
   * query that was not sent.
   */
  #send(pending: Pending): void {
    try {
      this.#socket.send(pending.query.packet, (err) => {
        if (err) this.#sendFailed(pending, err);
      });
    } catch (err) {
      this.#sendFailed(pending, err as Error);
    }
  }

  #sendFailed(pending: Pending, err: Error): void {
    if ((err as { code?: unknown }).code === "ECONNREFUSED") this.#fail(err);
    else this.#settle(pending, { error: pending.query.socketError(err) });
  }

  #message(message: Uint8Array, peer: RemoteInfo): void {
    if (message.length < 2 || !fromServer(peer, this.#server)) return;
    const pending = this.#pending.get((message[0]! << 8) | message[1]!);
    if (pending === undefined) return; // late, duplicate or forged
    const outcome = pending.query.answer(message, pending.id);
    if (outcome !== undefined) this.#settle(pending, outcome);
  }

  /** Ends one query: its timer, its listener; the socket when idle. */
  #settle(pending: Pending, outcome: Settled): void {
    if (this.#pending.get(pending.id) !== pending) return;
    this.#pending.delete(pending.id);
    clearTimeout(pending.timer);
    pending.query.signal.removeEventListener("abort", pending.onAbort);
    if (this.#pending.size === 0) this.#close();
    if ("error" in outcome) pending.reject(outcome.error);
    else pending.resolve(outcome.value);
  }

  /** A socket error ends every query on it. */
  #fail(err: Error): void {
    if (this.#closed) return;
    for (const pending of [...this.#pending.values()]) {
      this.#settle(pending, { error: pending.query.socketError(err) });
    }
    this.#close();
  }

  #unlist(): void {
    if (open.get(this.#key) === this) open.delete(this.#key);
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unlist();
    this.#socket.removeAllListeners("message");
    try {
      this.#socket.close();
    } catch {
      // Already closed (an error closed it): nothing left to release.
    }
  }
}

/**
 * Sends one query to `query.server` on a socket it shares with the other
 * queries in flight to that server (at most
 * {@linkcode MAX_QUERIES_PER_SOCKET} in a socket's life), under a random ID
 * unique on that socket, and settles with the first datagram from the
 * server that `query.answer` accepts. Rejects with `signal.reason` on
 * abort, with `query.timedOut()` after `timeout`, with
 * `query.socketError()` when the socket fails; releases the timer, the
 * listener and (once idle) the socket on every way out.
 *
 * @param query The query, its server, timeout, signal and answer reader.
 * @returns What `query.answer` made of the answer.
 */
export function sendQuery(query: QueryExchange): Promise<unknown> {
  const { server } = query;
  const key = `${server.family} ${server.address} ${server.port}`;
  let socket = open.get(key);
  if (socket === undefined || !socket.joinable) {
    socket = new QuerySocket(key, server);
    open.set(key, socket);
  }
  return socket.add(query);
}

function fromServer(peer: RemoteInfo, server: NameServer): boolean {
  if (peer.port !== server.port) return false;
  const zone = peer.address.indexOf("%");
  const address = zone < 0 ? peer.address : peer.address.slice(0, zone);
  return address.toLowerCase() === server.ip ||
    address === `::ffff:${server.ip}`;
}
