/**
 * The DNS message format of the own stub resolver (RFC 1035): the query it
 * sends (one question, EDNS(0)) and the answers it reads — addresses for
 * A/AAAA, records for SVCB/HTTPS (RFC 9460, via `_svcb.ts`) — following
 * name compression and CNAME chains. Not part of the public API.
 *
 * @module
 */

import type { ServiceRecord } from "../src/types.ts";
import { MAX_SERVICE_RECORDS, parseServiceRdata } from "./_svcb.ts";

const TYPE_A = 1;
const TYPE_CNAME = 5;
const TYPE_AAAA = 28;
const TYPE_OPT = 41;
const CLASS_IN = 1;
/** The EDNS(0) UDP payload size we advertise, as Go does (DNS Flag Day 2020). */
const EDNS_UDP_SIZE = 1232;
const RCODE_NOERROR = 0;

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

/** The records of the query type owned by the name or its CNAME targets. */
interface ChainAnswer {
  rcode: number;
  truncated: boolean;
  malformed: boolean;
  /** Each with its TTL lowered to the smallest CNAME TTL on the chain. */
  records: ResourceRecord[];
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
  const chain = decodeChain(message, query);
  if (chain === undefined) return undefined;
  const { rcode, truncated, malformed } = chain;
  const answer: DecodedAnswer = { rcode, truncated, malformed, records: [] };
  if (malformed) return answer;
  const view = new DataView(
    message.buffer,
    message.byteOffset,
    message.byteLength,
  );
  for (const record of chain.records) {
    const { ttl } = record;
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
      answer.records = [];
      return answer;
    }
  }
  return answer;
}

/** What {@linkcode decodeServiceResponse} read from an answer. */
export interface DecodedServiceAnswer {
  /** The response code (low 4 bits of the header). */
  rcode: number;
  /** The TC bit. */
  truncated: boolean;
  /** The message could not be parsed past the question. */
  malformed: boolean;
  /** The usable SVCB/HTTPS records, in answer order, each with its TTL. */
  records: ServiceRecord[];
  /** Why each record left out was left out. */
  ignored: string[];
}

/**
 * Decodes a response to an SVCB or HTTPS query, following CNAME chains. A
 * record that cannot be used is left out, with the reason in `ignored`;
 * at most {@linkcode MAX_SERVICE_RECORDS} records are kept.
 *
 * @param message The datagram.
 * @param query The id, canonical name and type (64 or 65) that were asked.
 * @returns The answer, or `undefined` when the datagram is not a response
 * to that question.
 */
export function decodeServiceResponse(
  message: Uint8Array,
  query: { id: number; name: string; qtype: number },
): DecodedServiceAnswer | undefined {
  const chain = decodeChain(message, query);
  if (chain === undefined) return undefined;
  const { rcode, truncated, malformed } = chain;
  const answer: DecodedServiceAnswer = {
    rcode,
    truncated,
    malformed,
    records: [],
    ignored: [],
  };
  let dropped = 0;
  for (const [index, rr] of chain.records.entries()) {
    const rdata = message.subarray(rr.rdata, rr.rdata + rr.rdlength);
    const parsed = parseServiceRdata(rdata, rr.ttl);
    if (parsed.error !== undefined) {
      answer.ignored.push(
        `record ${index + 1} of ${rr.owner}: ${parsed.error}`,
      );
    } else if (answer.records.length < MAX_SERVICE_RECORDS) {
      answer.records.push(parsed.record);
    } else {
      dropped++;
    }
  }
  if (dropped !== 0) {
    answer.ignored.push(
      `${dropped} records beyond the first ${MAX_SERVICE_RECORDS} dropped`,
    );
  }
  return answer;
}

/** The header, the question check and the CNAME chain of a response. */
function decodeChain(
  message: Uint8Array,
  query: { id: number; name: string; qtype: number },
): ChainAnswer | undefined {
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
  const answer: ChainAnswer = {
    rcode: flags & 0xf,
    truncated: (flags & 0x0200) !== 0,
    malformed: false,
    records: [],
  };
  if (answer.rcode !== RCODE_NOERROR || answer.truncated) return answer;

  const records = readAnswers(message, view, question.next + 4);
  if (records === undefined) {
    answer.malformed = true;
    return answer;
  }
  // Follow the CNAME chain from the question's name; the answer's
  // records are those owned by a name on it.
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
    answer.records.push({ ...record, ttl: Math.min(record.ttl, chainTtl) });
  }
  return answer;
}

/** The answer section's records of class IN, or `undefined` if malformed. */
function readAnswers(
  message: Uint8Array,
  view: DataView,
  start: number,
): ResourceRecord[] | undefined {
  const records: ResourceRecord[] = [];
  let offset = start;
  for (let i = view.getUint16(6); i > 0; i--) {
    const owner = readName(message, offset);
    if (owner === undefined || owner.next + 10 > message.length) {
      return undefined;
    }
    offset = owner.next;
    const type = view.getUint16(offset);
    const klass = view.getUint16(offset + 2);
    // RFC 2181 §8: a TTL with the top bit set is taken as zero.
    const rawTtl = view.getUint32(offset + 4);
    const rdlength = view.getUint16(offset + 8);
    offset += 10;
    if (offset + rdlength > message.length) return undefined;
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
  return records;
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
