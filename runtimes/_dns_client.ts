/**
 * A minimal RFC 1035 stub resolver over UDP (`node:dgram`): one A or AAAA
 * query to one name server, one answer, no retries, no TCP.
 *
 * All three adapters use it for `createResolver({ nameServer })` because
 * the native APIs cannot report what the core needs, or not alike:
 * `Deno.resolveDns` fails NXDOMAIN, NODATA, SERVFAIL and REFUSED alike with
 * the same `NotFound` error, has no TTL and no per-query timeout; Bun's
 * `node:dns` `Resolver` reports NODATA as `ENOTFOUND` and caches answers;
 * Node's (c-ares) stretches the timeout it is given and retries a truncated
 * answer over TCP, which this client reports as an error on every runtime.
 * Here the response code is read from the header itself.
 *
 * Not part of the public API.
 *
 * @module
 */

import { createSocket, type RemoteInfo } from "node:dgram";
import { DNSError } from "../src/errors.ts";
import type { Family } from "../src/types.ts";
import {
  canonicalName,
  type NameServer,
  type ResolvedAddr,
  toResolvedAddrs,
} from "./_dns_common.ts";

/** Options for {@linkcode queryAddrs}. */
export interface DnsQueryOptions {
  /** The server to ask. */
  server: NameServer;
  /** Milliseconds to wait for the answer. */
  timeout: number;
  /** Aborts the query: it rejects with `signal.reason` at once. */
  signal: AbortSignal;
}

const TYPE_A = 1;
const TYPE_CNAME = 5;
const TYPE_AAAA = 28;
const TYPE_OPT = 41;
const CLASS_IN = 1;
/** The EDNS(0) UDP payload size we advertise, as Go does (DNS Flag Day 2020). */
const EDNS_UDP_SIZE = 1232;

const RCODE_NOERROR = 0;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;

/**
 * Asks `options.server` for the A (family 4) or AAAA (family 6) records of
 * `host`.
 *
 * @param host The name; a trailing dot is allowed, no search list applies.
 * @param family 4 for A, 6 for AAAA.
 * @param options The server, the timeout and the abort signal.
 * @returns The addresses in answer order, each with its TTL; `[]` when the
 * name exists without records of that type (NODATA).
 * @throws {DNSError} `no such host` (NXDOMAIN or an invalid name),
 * `server misbehaving` (SERVFAIL: temporary; REFUSED and other codes),
 * `i/o timeout`, `read: connection refused` (nothing listens on the port),
 * `cannot unmarshal DNS message`, or a truncated answer.
 */
export function queryAddrs(
  host: string,
  family: Family,
  options: DnsQueryOptions,
): Promise<ResolvedAddr[]> {
  const { server, timeout, signal } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  const name = canonicalName(host);
  if (name === undefined) {
    return Promise.reject(
      new DNSError("no such host", host, {
        isNotFound: true,
        server: server.text,
      }),
    );
  }
  const qtype = family === 4 ? TYPE_A : TYPE_AAAA;
  const id = crypto.getRandomValues(new Uint16Array(1))[0];
  const packet = encodeQuery(id, name, qtype);

  return new Promise<ResolvedAddr[]>((resolve, reject) => {
    const socket = createSocket(server.family === 6 ? "udp6" : "udp4");
    let done = false;
    // Released on every way out: the timer, the abort listener, the socket.
    const release = () => {
      done = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      // The "error" listener stays: `fail` ignores it now, and an error
      // event without a listener would throw.
      socket.removeAllListeners("message");
      try {
        socket.close();
      } catch {
        // Already closed (an error closed it): nothing left to release.
      }
    };
    const fail = (err: unknown) => {
      if (done) return;
      release();
      reject(err);
    };
    const onAbort = () => fail(signal.reason);
    const timer = setTimeout(
      () =>
        fail(
          new DNSError("i/o timeout", host, {
            isTimeout: true,
            server: server.text,
          }),
        ),
      timeout,
    );
    signal.addEventListener("abort", onAbort, { once: true });

    socket.on("error", (err: Error) => fail(socketError(err, host, server)));
    socket.on("message", (message: Uint8Array, peer: RemoteInfo) => {
      if (done || !fromServer(peer, server)) return;
      const answer = decodeResponse(message, { id, name, qtype });
      if (answer === undefined) return; // not the answer to our question
      release();
      const error = answerError(answer, host, server);
      if (error !== undefined) reject(error);
      else {
        resolve(toResolvedAddrs(answer.records, family, { recordTtl: true }));
      }
    });
    // A connected UDP socket hears ICMP "port unreachable" as ECONNREFUSED
    // (Node, Bun), so a server that is not running fails at once. Deno's
    // node:dgram does not report it: there it is a timeout.
    try {
      socket.connect(server.port, server.address, () => {
        if (done) return;
        socket.send(packet, (err) => {
          if (err) fail(socketError(err, host, server));
        });
      });
    } catch (err) {
      fail(socketError(err as Error, host, server));
    }
  });
}

function fromServer(peer: RemoteInfo, server: NameServer): boolean {
  if (peer.port !== server.port) return false;
  const zone = peer.address.indexOf("%");
  const address = zone < 0 ? peer.address : peer.address.slice(0, zone);
  return address.toLowerCase() === server.ip ||
    address === `::ffff:${server.ip}`;
}

function socketError(err: Error, host: string, server: NameServer): DNSError {
  const code = (err as { code?: unknown }).code;
  if (code === "ECONNREFUSED") {
    return new DNSError("read: connection refused", host, {
      server: server.text,
      cause: err,
    });
  }
  return new DNSError(err.message || String(code), host, {
    server: server.text,
    cause: err,
  });
}

function answerError(
  answer: DecodedAnswer,
  host: string,
  server: NameServer,
): DNSError | undefined {
  const base = { server: server.text };
  if (answer.malformed) {
    return new DNSError("cannot unmarshal DNS message", host, base);
  }
  if (answer.rcode === RCODE_NXDOMAIN) {
    return new DNSError("no such host", host, { ...base, isNotFound: true });
  }
  if (answer.rcode === RCODE_SERVFAIL) {
    return new DNSError("server misbehaving", host, {
      ...base,
      isTemporary: true,
    });
  }
  if (answer.rcode !== RCODE_NOERROR) {
    // REFUSED, FORMERR, NOTIMP…: none make sense for our query (Go's view).
    return new DNSError("server misbehaving", host, base);
  }
  if (answer.truncated) {
    return new DNSError(
      "truncated response (DNS over TCP is not supported)",
      host,
      base,
    );
  }
  return undefined;
}

/**
 * Encodes a recursive query for one name and type, with an EDNS(0) OPT
 * record advertising {@linkcode EDNS_UDP_SIZE} bytes.
 *
 * @param id The message id.
 * @param name A name from {@linkcode canonicalName}.
 * @param qtype The query type (1 = A, 28 = AAAA).
 * @returns The query message.
 */
export function encodeQuery(
  id: number,
  name: string,
  qtype: number,
): Uint8Array {
  const nameLength = name.length + 2; // length octets + root label
  const packet = new Uint8Array(12 + nameLength + 4 + 11);
  const view = new DataView(packet.buffer);
  view.setUint16(0, id);
  view.setUint16(2, 0x0100); // RD
  view.setUint16(4, 1); // QDCOUNT
  view.setUint16(10, 1); // ARCOUNT: the OPT record
  let offset = 12;
  for (const label of name.split(".")) {
    packet[offset++] = label.length;
    for (let i = 0; i < label.length; i++) {
      packet[offset++] = label.charCodeAt(i);
    }
  }
  packet[offset++] = 0;
  view.setUint16(offset, qtype);
  view.setUint16(offset + 2, CLASS_IN);
  offset += 4;
  // OPT: root name, type, UDP payload size as class, ttl 0, no options.
  packet[offset] = 0;
  view.setUint16(offset + 1, TYPE_OPT);
  view.setUint16(offset + 3, EDNS_UDP_SIZE);
  return packet;
}

/** What {@linkcode decodeResponse} read from an answer to our question. */
export interface DecodedAnswer {
  /** The response code (low 4 bits of the header). */
  rcode: number;
  /** The TC bit. */
  truncated: boolean;
  /** The answer could not be parsed past the question. */
  malformed: boolean;
  /** Addresses of the query type owned by the name or its CNAME targets. */
  records: { address: string; ttl: number }[];
}

/** An answer record: where its data is, not the data itself. */
interface ResourceRecord {
  owner: string;
  type: number;
  ttl: number;
  /** Offset of the RDATA in the message. */
  rdata: number;
  rdlength: number;
}

/**
 * Decodes a response, following name compression and CNAME chains.
 *
 * @param message The datagram.
 * @param query The id, canonical name and type that were asked.
 * @returns The answer, or `undefined` when the datagram is not a response
 * to that question (another id, not a response, another question).
 */
export function decodeResponse(
  message: Uint8Array,
  query: { id: number; name: string; qtype: number },
): DecodedAnswer | undefined {
  if (message.length < 12) return undefined;
  const view = new DataView(
    message.buffer,
    message.byteOffset,
    message.byteLength,
  );
  const flags = view.getUint16(2);
  if (
    view.getUint16(0) !== query.id || (flags & 0x8000) === 0 ||
    ((flags >> 11) & 0xf) !== 0 || view.getUint16(4) !== 1
  ) {
    return undefined;
  }
  const question = readName(message, 12);
  if (
    question === undefined || question.next + 4 > message.length ||
    question.name !== query.name ||
    view.getUint16(question.next) !== query.qtype ||
    view.getUint16(question.next + 2) !== CLASS_IN
  ) {
    return undefined;
  }
  const answer: DecodedAnswer = {
    rcode: flags & 0xf,
    truncated: (flags & 0x0200) !== 0,
    malformed: false,
    records: [],
  };
  if (answer.rcode !== RCODE_NOERROR || answer.truncated) return answer;

  const records: ResourceRecord[] = [];
  let offset = question.next + 4;
  for (let i = view.getUint16(6); i > 0; i--) {
    const owner = readName(message, offset);
    if (owner === undefined || owner.next + 10 > message.length) {
      answer.malformed = true;
      return answer;
    }
    offset = owner.next;
    const type = view.getUint16(offset);
    const klass = view.getUint16(offset + 2);
    // RFC 2181 §8: a TTL with the top bit set is taken as zero.
    const rawTtl = view.getUint32(offset + 4);
    const rdlength = view.getUint16(offset + 8);
    offset += 10;
    if (offset + rdlength > message.length) {
      answer.malformed = true;
      return answer;
    }
    if (klass === CLASS_IN) {
      records.push({
        owner: owner.name,
        type,
        ttl: rawTtl > 0x7fffffff ? 0 : rawTtl,
        rdata: offset,
        rdlength,
      });
    }
    offset += rdlength;
  }

  // Follow the CNAME chain from the question's name; the answer's
  // addresses are those owned by a name on it.
  const chain = new Set([query.name]);
  let chainTtl = Infinity;
  for (let grew = true; grew;) {
    grew = false;
    for (const record of records) {
      if (record.type !== TYPE_CNAME || !chain.has(record.owner)) continue;
      const target = readName(message, record.rdata);
      if (target === undefined) {
        answer.malformed = true;
        return answer;
      }
      chainTtl = Math.min(chainTtl, record.ttl);
      if (!chain.has(target.name)) {
        chain.add(target.name);
        grew = true;
      }
    }
  }
  for (const record of records) {
    if (record.type !== query.qtype || !chain.has(record.owner)) continue;
    const ttl = Math.min(record.ttl, chainTtl);
    if (record.type === TYPE_A && record.rdlength === 4) {
      answer.records.push({
        address: message.subarray(record.rdata, record.rdata + 4).join("."),
        ttl,
      });
    } else if (record.type === TYPE_AAAA && record.rdlength === 16) {
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) {
        groups.push(view.getUint16(record.rdata + i).toString(16));
      }
      // toResolvedAddrs() makes it canonical (RFC 5952) with parseIP().
      answer.records.push({ address: groups.join(":"), ttl });
    } else {
      answer.malformed = true;
      return answer;
    }
  }
  return answer;
}

/**
 * Reads a possibly compressed name, lower case, without the trailing dot.
 *
 * @param message The message.
 * @param start Where the name starts.
 * @returns The name and the offset after it (after the first pointer), or
 * `undefined` when it is malformed (out of bounds, pointer loop, too long).
 */
function readName(
  message: Uint8Array,
  start: number,
): { name: string; next: number } | undefined {
  let name = "";
  let offset = start;
  let next = -1;
  let hops = 0;
  for (;;) {
    if (offset >= message.length) return undefined;
    const length = message[offset];
    if (length === 0) {
      if (next < 0) next = offset + 1;
      break;
    }
    if ((length & 0xc0) === 0xc0) {
      if (offset + 1 >= message.length) return undefined;
      const target = ((length & 0x3f) << 8) | message[offset + 1];
      if (next < 0) next = offset + 2;
      // Pointers point backwards; the hop and length limits end any loop.
      if (target >= offset || ++hops > 63) return undefined;
      offset = target;
      continue;
    }
    if ((length & 0xc0) !== 0) return undefined; // reserved label types
    if (offset + 1 + length > message.length) return undefined;
    if (name.length !== 0) name += ".";
    for (let i = offset + 1; i <= offset + length; i++) {
      const c = message[i];
      name += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
    }
    if (name.length > 254) return undefined;
    offset += 1 + length;
  }
  return { name, next };
}
