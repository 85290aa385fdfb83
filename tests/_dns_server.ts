/**
 * A real DNS server for tests, the demo and the benchmarks: UDP on loopback,
 * answering A, AAAA, HTTPS and SVCB queries from a table (CNAMEs too), with
 * per-record-type delays and fault modes. Built on `node:dgram`, so it runs unchanged on Deno, Bun and
 * Node.
 *
 * @module
 */

import { createSocket, type RemoteInfo } from "node:dgram";

/** The record types the fixture serves from its table. */
export type ServedType = "A" | "AAAA" | "HTTPS" | "SVCB";

/**
 * One SVCB/HTTPS record to serve (RFC 9460 §2.2), encoded by the fixture:
 * the known SvcParams from the named fields, `mandatory` and any other
 * keys from `params`. Raw RDATA bytes are served as they are (for
 * malformed records).
 */
export interface ServiceSpec {
  /** SvcPriority; 0 is AliasMode. */
  priority: number;
  /** TargetName, `"."` for the root. */
  target: string;
  /** Keys for the `mandatory` SvcParam (key 0). */
  mandatory?: number[];
  /** The `alpn` ids (key 1). */
  alpn?: string[];
  /** The `no-default-alpn` flag (key 2). */
  noDefaultAlpn?: boolean;
  /** The `port` (key 3). */
  port?: number;
  /** The `ipv4hint` addresses (key 4). */
  ipv4hint?: string[];
  /** The `ech` bytes (key 5). */
  ech?: Uint8Array;
  /** The `ipv6hint` addresses (key 6). */
  ipv6hint?: string[];
  /** Further SvcParams as `[key, value]`, sorted in with the others. */
  params?: [number, Uint8Array][];
}

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
   * The HTTPS records (type 65), answered in this order.
   * @default {[]}
   */
  HTTPS?: (ServiceSpec | Uint8Array)[];
  /**
   * The SVCB records (type 64), answered in this order.
   * @default {[]}
   */
  SVCB?: (ServiceSpec | Uint8Array)[];
  /**
   * The name is an alias: every answer is this CNAME followed by the
   * target's records of the type asked (when the zone has the target).
   * @default {undefined}
   */
  CNAME?: string;
  /**
   * Answer every query for the name with this error code instead, or only
   * the queries of the types listed.
   * @default {undefined}
   */
  rcode?:
    | "SERVFAIL"
    | "REFUSED"
    | Partial<Record<ServedType, "SERVFAIL" | "REFUSED">>;
  /**
   * Never answer queries for the name (`true`), or of the types listed.
   * @default {false}
   */
  drop?: boolean | Partial<Record<ServedType, boolean>>;
  /**
   * Milliseconds to wait before answering, per query type.
   * @default {{}}
   */
  delay?: Partial<Record<ServedType, number>>;
  /**
   * The TTL of the answers, in seconds: one for every record, or one per
   * query type (a type left out gets 60).
   * @default {60}
   */
  ttl?: number | Partial<Record<ServedType, number>>;
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
    const drop = entry?.drop;
    if (drop === true || (drop && drop[typeName as ServedType])) return;
    const reply = buildReply(message, query, entry, zone);
    const delay = entry?.delay?.[typeName as ServedType];
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

const SERVED: Record<number, ServedType> = {
  1: "A",
  28: "AAAA",
  64: "SVCB",
  65: "HTTPS",
};

/** One answer record: owner (wire form), type, TTL and RDATA. */
interface Answer {
  owner: Uint8Array;
  type: number;
  ttl: number;
  rdata: Uint8Array;
}

/** The pointer to the question's name (offset 12). */
const QUESTION_POINTER = Uint8Array.from([0xc0, 12]);

/** The records of `type` that `entry` has, encoded. */
function rdatasOf(entry: DnsZoneEntry, type: ServedType): Uint8Array[] {
  switch (type) {
    case "A":
      return (entry.A ?? []).map(encodeIPv4);
    case "AAAA":
      return (entry.AAAA ?? []).map(encodeIPv6);
    default:
      return (entry[type] ?? []).map((r) =>
        r instanceof Uint8Array ? r : encodeService(r)
      );
  }
}

function ttlOf(entry: DnsZoneEntry, type: ServedType | undefined): number {
  const given = entry.ttl;
  if (typeof given === "number") return given;
  return (type === undefined ? undefined : given?.[type]) ?? 60;
}

/** The answers for `type`: the entry's records, or its CNAME and then the target's. */
function answersFor(
  entry: DnsZoneEntry,
  type: ServedType | undefined,
  zone: Map<string, DnsZoneEntry>,
): Answer[] {
  if (entry.CNAME !== undefined) {
    const target = normalizeName(entry.CNAME);
    const owner = encodeName(target);
    const answers: Answer[] = [{
      owner: QUESTION_POINTER,
      type: 5,
      ttl: ttlOf(entry, type),
      rdata: owner,
    }];
    const next = zone.get(target);
    if (next !== undefined && type !== undefined && next.CNAME === undefined) {
      for (const rdata of rdatasOf(next, type)) {
        answers.push({
          owner,
          type: TYPE_NUMBER[type],
          ttl: ttlOf(next, type),
          rdata,
        });
      }
    }
    return answers;
  }
  if (type === undefined) return [];
  return rdatasOf(entry, type).map((rdata) => ({
    owner: QUESTION_POINTER,
    type: TYPE_NUMBER[type],
    ttl: ttlOf(entry, type),
    rdata,
  }));
}

const TYPE_NUMBER: Record<ServedType, number> = {
  A: 1,
  AAAA: 28,
  SVCB: 64,
  HTTPS: 65,
};

function buildReply(
  message: Uint8Array,
  query: ParsedQuery,
  entry: DnsZoneEntry | undefined,
  zone: Map<string, DnsZoneEntry>,
): Uint8Array {
  const question = query.question!;
  const type = SERVED[question.type];
  let rcode = RCODE.NOERROR;
  let answers: Answer[] = [];
  const given = entry?.rcode;
  const error = typeof given === "string"
    ? given
    : type === undefined
    ? undefined
    : given?.[type];
  if (entry === undefined) {
    rcode = RCODE.NXDOMAIN;
  } else if (error !== undefined) {
    rcode = RCODE[error];
  } else if (question.class === 1 || question.class === 255) {
    answers = answersFor(entry, type, zone);
  }
  const questionBytes = message.subarray(12, query.questionEnd);
  let size = 12 + questionBytes.length;
  for (const a of answers) size += a.owner.length + 10 + a.rdata.length;
  const reply = new Uint8Array(size);
  const view = new DataView(reply.buffer);
  view.setUint16(0, query.id);
  view.setUint16(2, replyFlags(query.flags, rcode));
  view.setUint16(4, 1); // QDCOUNT
  view.setUint16(6, answers.length); // ANCOUNT; NSCOUNT, ARCOUNT stay 0
  reply.set(questionBytes, 12);
  let offset = 12 + questionBytes.length;
  for (const a of answers) {
    reply.set(a.owner, offset);
    offset += a.owner.length;
    view.setUint16(offset, a.type);
    view.setUint16(offset + 2, 1); // class IN
    view.setUint32(offset + 4, a.ttl);
    view.setUint16(offset + 8, a.rdata.length);
    reply.set(a.rdata, offset + 10);
    offset += 10 + a.rdata.length;
  }
  return reply;
}

/** A name in wire form, uncompressed (`"."` is the root). */
function encodeName(name: string): Uint8Array {
  const bytes: number[] = [];
  const bare = normalizeName(name);
  if (bare !== "" && bare !== ".") {
    for (const label of bare.split(".")) {
      bytes.push(label.length);
      for (let i = 0; i < label.length; i++) bytes.push(label.charCodeAt(i));
    }
  }
  bytes.push(0);
  return Uint8Array.from(bytes);
}

/**
 * The RDATA of one SVCB/HTTPS record (RFC 9460 §2.2), SvcParams sorted by
 * key.
 *
 * @param spec The record.
 * @returns Its wire form.
 */
export function encodeService(spec: ServiceSpec): Uint8Array {
  const params: [number, Uint8Array][] = [...(spec.params ?? [])];
  const u16 = (n: number) => [n >> 8, n & 0xff];
  if (spec.mandatory) {
    params.push([0, Uint8Array.from(spec.mandatory.flatMap(u16))]);
  }
  if (spec.alpn) {
    const bytes = spec.alpn.flatMap((id) => [
      id.length,
      ...[...id].map((c) => c.charCodeAt(0)),
    ]);
    params.push([1, Uint8Array.from(bytes)]);
  }
  if (spec.noDefaultAlpn) params.push([2, new Uint8Array(0)]);
  if (spec.port !== undefined) {
    params.push([3, Uint8Array.from(u16(spec.port))]);
  }
  if (spec.ipv4hint) {
    params.push([
      4,
      Uint8Array.from(spec.ipv4hint.flatMap((a) => [...encodeIPv4(a)])),
    ]);
  }
  if (spec.ech) params.push([5, spec.ech]);
  if (spec.ipv6hint) {
    params.push([
      6,
      Uint8Array.from(spec.ipv6hint.flatMap((a) => [...encodeIPv6(a)])),
    ]);
  }
  params.sort((a, b) => a[0] - b[0]);
  const bytes = [...u16(spec.priority), ...encodeName(spec.target)];
  for (const [key, value] of params) {
    bytes.push(...u16(key), ...u16(value.length), ...value);
  }
  return Uint8Array.from(bytes);
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
