/**
 * A real DNS server for tests, the demo and the benchmarks: UDP on loopback,
 * answering A and AAAA queries from a table, with per-record-type delays and
 * fault modes. Built on `node:dgram`, so it runs unchanged on Deno, Bun and
 * Node.
 *
 * @module
 */

import { createSocket, type RemoteInfo } from "node:dgram";

/** What the server knows about one name. */
export interface DnsZoneEntry {
  /**
   * The IPv4 addresses, answered in this order.
   * @default {[]}
   */
  A?: string[];
  /**
   * The IPv6 addresses, answered in this order.
   * @default {[]}
   */
  AAAA?: string[];
  /**
   * Answer every query for the name with this error code instead.
   * @default {undefined}
   */
  rcode?: "SERVFAIL" | "REFUSED";
  /**
   * Never answer queries for the name.
   * @default {false}
   */
  drop?: boolean;
  /**
   * Milliseconds to wait before answering, per query type.
   * @default {{}}
   */
  delay?: { A?: number; AAAA?: number };
  /**
   * The TTL of the answers, in seconds: one for every record, or one per
   * query type (a type left out gets 60).
   * @default {60}
   */
  ttl?: number | { A?: number; AAAA?: number };
}

/** The table a {@linkcode DnsServer} answers from; names case-insensitive. */
export type DnsZone = Record<string, DnsZoneEntry>;

/** Options for {@linkcode startDnsServer}. */
export interface DnsServerOptions {
  /** The names served. Unknown names are answered with NXDOMAIN. */
  zone: DnsZone;
  /**
   * The UDP port to listen on; 0 picks a free one.
   * @default {0}
   */
  port?: number;
  /**
   * The loopback address to listen on (`"::1"` for IPv6).
   * @default {"127.0.0.1"}
   */
  address?: string;
}

/** One query the server received. */
export interface DnsQueryRecord {
  /** The name asked for, lower case, without the trailing dot. */
  name: string;
  /** The query type: `"A"`, `"AAAA"`, or another mnemonic / `TYPEn`. */
  type: "A" | "AAAA" | string;
  /** When it arrived, `performance.now()` milliseconds. */
  at: number;
}

/** A running DNS server fixture. */
export interface DnsServer {
  /** The address it listens on. */
  readonly address: string;
  /** The port it listens on. */
  readonly port: number;
  /** `{ address, port }`, ready for `createResolver({ nameServer })`. */
  readonly nameServer: { address: string; port: number };
  /** Every query received, in arrival order. */
  readonly queries: DnsQueryRecord[];
  /**
   * Waits for the next query to arrive (for tests that must act while a
   * query is in flight, without sleeping).
   *
   * @returns The query, once received.
   */
  nextQuery(): Promise<DnsQueryRecord>;
  /**
   * Replaces the table answered from.
   *
   * @param zone The new table.
   */
  setZone(zone: DnsZone): void;
  /**
   * Closes the socket and cancels every delayed answer.
   *
   * @returns Resolves once the socket is closed.
   */
  close(): Promise<void>;
}

const TYPE_NAMES: Record<number, string> = {
  1: "A",
  2: "NS",
  5: "CNAME",
  6: "SOA",
  12: "PTR",
  15: "MX",
  16: "TXT",
  28: "AAAA",
  33: "SRV",
  41: "OPT",
  64: "SVCB",
  65: "HTTPS",
  255: "ANY",
};

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 };

/**
 * Starts a DNS server on loopback.
 *
 * @param options The zone, the port and the address.
 * @returns The running server; close it when done.
 *
 * @example Serving a dual-stack name
 * ```ts ignore
 * import { startDnsServer } from "./_dns_server.ts";
 *
 * const server = await startDnsServer({
 *   zone: { "dual.test": { A: ["127.0.0.1"], AAAA: ["::1"] } },
 * });
 * try {
 *   console.log(server.nameServer); // { address: "127.0.0.1", port: … }
 * } finally {
 *   await server.close();
 * }
 * ```
 */
export async function startDnsServer(
  options: DnsServerOptions,
): Promise<DnsServer> {
  const address = options.address ?? "127.0.0.1";
  const socket = createSocket(address.includes(":") ? "udp6" : "udp4");
  let zone = normalizeZone(options.zone);
  const queries: DnsQueryRecord[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const waiters: ((query: DnsQueryRecord) => void)[] = [];
  let closed = false;

  function send(packet: Uint8Array, peer: RemoteInfo): void {
    if (closed) return;
    // A client that went away makes send fail; that is not our problem.
    socket.send(packet, peer.port, peer.address, () => {});
  }

  socket.on("message", (message: Uint8Array, peer: RemoteInfo) => {
    const query = parseQuery(message);
    if (query === undefined) return; // not a query we can even answer
    if (query.question === undefined) {
      send(errorReply(query, RCODE.FORMERR), peer);
      return;
    }
    const { name, type } = query.question;
    const typeName = TYPE_NAMES[type] ?? `TYPE${type}`;
    const record = { name, type: typeName, at: performance.now() };
    queries.push(record);
    for (const waiter of waiters.splice(0)) waiter(record);
    const entry = zone.get(name);
    if (entry?.drop) return;
    const reply = buildReply(message, query, entry);
    const delay = typeName === "A"
      ? entry?.delay?.A
      : typeName === "AAAA"
      ? entry?.delay?.AAAA
      : undefined;
    if (delay === undefined || delay <= 0) {
      send(reply, peer);
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      send(reply, peer);
    }, delay);
    timers.add(timer);
  });

  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind({ port: options.port ?? 0, address }, () => {
      socket.off("error", reject);
      resolve();
    });
  });
  // Stray errors after bind (a send to a vanished client) must not crash.
  socket.on("error", () => {});
  const port = socket.address().port;

  let closing: Promise<void> | undefined;
  return {
    address,
    port,
    nameServer: { address, port },
    queries,
    nextQuery(): Promise<DnsQueryRecord> {
      return new Promise((resolve) => waiters.push(resolve));
    },
    setZone(next: DnsZone): void {
      zone = normalizeZone(next);
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        closed = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        waiters.length = 0;
        socket.close(() => resolve());
      });
      return closing;
    },
  };
}

function normalizeName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

function normalizeZone(zone: DnsZone): Map<string, DnsZoneEntry> {
  const map = new Map<string, DnsZoneEntry>();
  for (const [name, entry] of Object.entries(zone)) {
    map.set(normalizeName(name), entry);
  }
  return map;
}

interface ParsedQuery {
  id: number;
  flags: number;
  /** Where the question section ends (after QTYPE and QCLASS). */
  questionEnd: number;
  question?: { name: string; type: number; class: number };
}

function parseQuery(message: Uint8Array): ParsedQuery | undefined {
  if (message.length < 12) return undefined;
  const view = new DataView(
    message.buffer,
    message.byteOffset,
    message.byteLength,
  );
  const id = view.getUint16(0);
  const flags = view.getUint16(2);
  if (flags & 0x8000) return undefined; // a response, not a query
  const qdcount = view.getUint16(4);
  const opcode = (flags >> 11) & 0xf;
  if (qdcount !== 1 || opcode !== 0) return { id, flags, questionEnd: 12 };
  // The question name: plain labels only (a query has nothing to point to).
  const labels: string[] = [];
  let offset = 12;
  for (;;) {
    if (offset >= message.length) return { id, flags, questionEnd: 12 };
    const length = message[offset];
    if (length === 0) {
      offset++;
      break;
    }
    if (length > 63 || offset + 1 + length > message.length) {
      return { id, flags, questionEnd: 12 };
    }
    labels.push(
      String.fromCharCode(...message.subarray(offset + 1, offset + 1 + length)),
    );
    offset += 1 + length;
  }
  if (offset + 4 > message.length) return { id, flags, questionEnd: 12 };
  return {
    id,
    flags,
    questionEnd: offset + 4,
    question: {
      name: normalizeName(labels.join(".")),
      type: view.getUint16(offset),
      class: view.getUint16(offset + 2),
    },
  };
}

/** The header flags of a reply: QR, opcode 0, AA, RD copied, RA, rcode. */
function replyFlags(queryFlags: number, rcode: number): number {
  return 0x8000 | 0x0400 | (queryFlags & 0x0100) | 0x0080 | rcode;
}

/** A reply with no question echoed, for a query we cannot parse. */
function errorReply(query: ParsedQuery, rcode: number): Uint8Array {
  const reply = new Uint8Array(12);
  const view = new DataView(reply.buffer);
  view.setUint16(0, query.id);
  view.setUint16(2, replyFlags(query.flags, rcode));
  return reply;
}

function buildReply(
  message: Uint8Array,
  query: ParsedQuery,
  entry: DnsZoneEntry | undefined,
): Uint8Array {
  const question = query.question!;
  let rcode = RCODE.NOERROR;
  const rdatas: Uint8Array[] = [];
  if (entry === undefined) {
    rcode = RCODE.NXDOMAIN;
  } else if (entry.rcode !== undefined) {
    rcode = RCODE[entry.rcode];
  } else if (question.class === 1 || question.class === 255) {
    if (question.type === 1) {
      for (const a of entry.A ?? []) rdatas.push(encodeIPv4(a));
    } else if (question.type === 28) {
      for (const a of entry.AAAA ?? []) rdatas.push(encodeIPv6(a));
    }
  }
  const given = entry?.ttl;
  const ttl = typeof given === "number"
    ? given
    : (question.type === 28 ? given?.AAAA : given?.A) ?? 60;
  const questionBytes = message.subarray(12, query.questionEnd);
  let size = 12 + questionBytes.length;
  for (const rdata of rdatas) size += 12 + rdata.length;
  const reply = new Uint8Array(size);
  const view = new DataView(reply.buffer);
  view.setUint16(0, query.id);
  view.setUint16(2, replyFlags(query.flags, rcode));
  view.setUint16(4, 1); // QDCOUNT
  view.setUint16(6, rdatas.length); // ANCOUNT; NSCOUNT, ARCOUNT stay 0
  reply.set(questionBytes, 12);
  let offset = 12 + questionBytes.length;
  for (const rdata of rdatas) {
    view.setUint16(offset, 0xc00c); // pointer to the question's name
    view.setUint16(offset + 2, question.type);
    view.setUint16(offset + 4, 1); // class IN
    view.setUint32(offset + 6, ttl);
    view.setUint16(offset + 10, rdata.length);
    reply.set(rdata, offset + 12);
    offset += 12 + rdata.length;
  }
  return reply;
}

function encodeIPv4(text: string): Uint8Array {
  const parts = text.split(".");
  const bytes = parts.map(Number);
  if (
    parts.length !== 4 ||
    bytes.some((b, i) => !/^\d{1,3}$/.test(parts[i]) || b > 255)
  ) {
    throw new TypeError(`Cannot serve "${text}" as an A record`);
  }
  return Uint8Array.from(bytes);
}

function encodeIPv6(text: string): Uint8Array {
  const fail = () => new TypeError(`Cannot serve "${text}" as an AAAA record`);
  let body = text;
  const tail: number[] = [];
  const lastColon = body.lastIndexOf(":");
  if (body.includes(".", lastColon)) {
    // An embedded IPv4 tail: ::ffff:1.2.3.4
    const v4 = encodeIPv4(body.slice(lastColon + 1));
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    body = body.slice(0, lastColon + 1); // keeps "::", or a ":" to drop
    if (!body.endsWith("::")) body = body.slice(0, -1);
  }
  const halves = body.split("::");
  if (halves.length > 2) throw fail();
  const parse = (s: string) =>
    s === "" ? [] : s.split(":").map((g) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw fail();
      return parseInt(g, 16);
    });
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const groups = 8 - tail.length;
  let words: number[];
  if (halves.length === 2) {
    const zeros = groups - head.length - rest.length;
    if (zeros < 1) throw fail();
    words = [...head, ...new Array<number>(zeros).fill(0), ...rest, ...tail];
  } else {
    if (head.length !== groups) throw fail();
    words = [...head, ...tail];
  }
  const bytes = new Uint8Array(16);
  words.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  return bytes;
}
