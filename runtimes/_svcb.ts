/**
 * SVCB and HTTPS records (RFC 9460) for the own DNS client: which name and
 * type a service lookup asks for (§2.3, §9.1), and the RDATA wire format
 * (§2.2) read into a {@linkcode ServiceRecord}. Runtime-neutral; not part
 * of the public API.
 *
 * A record the client cannot use safely is ignored, never fatal: a
 * malformed SvcParam (§2.2: a value cut short, keys not strictly
 * increasing; a value of the wrong shape), a record that is not
 * self-consistent (§2.4.3: a `mandatory` key missing from the record,
 * `no-default-alpn` without `alpn`) or not compatible (§8: `mandatory`
 * names a key not understood here). {@linkcode parseServiceRdata} says
 * why, so the caller can report it.
 *
 * @module
 */

import { parseIP } from "../src/address.ts";
import type { ServiceRecord } from "../src/types.ts";

/** The SVCB resource record type (RFC 9460 §14.1). */
export const TYPE_SVCB = 64;
/** The HTTPS resource record type (RFC 9460 §14.2). */
export const TYPE_HTTPS = 65;

/** The SvcParamKeys understood here (RFC 9460 §14.3.2). */
const KEY_MANDATORY = 0;
const KEY_ALPN = 1;
const KEY_NO_DEFAULT_ALPN = 2;
const KEY_PORT = 3;
const KEY_IPV4HINT = 4;
const KEY_ECH = 5;
const KEY_IPV6HINT = 6;
const KNOWN_KEYS = 6;

/**
 * The most addresses kept per hint (`ipv4hint`, `ipv6hint`) of one record;
 * the rest are dropped. A dial tries a few addresses per family, and a
 * datagram of 1232 bytes could otherwise carry 70 IPv6 hints.
 */
export const MAX_HINTS = 8;
/** The most service records kept from one answer (in answer order). */
export const MAX_SERVICE_RECORDS = 16;

const KEY_NAMES = [
  "mandatory",
  "alpn",
  "no-default-alpn",
  "port",
  "ipv4hint",
  "ech",
  "ipv6hint",
];

function keyName(key: number): string {
  return KEY_NAMES[key] ?? `key${key}`;
}

/** The DNS question of a service lookup. */
export interface ServiceQuestion {
  /** The name asked for (lower case, no trailing dot when it is valid). */
  name: string;
  /** {@linkcode TYPE_HTTPS} or {@linkcode TYPE_SVCB}. */
  qtype: number;
}

/**
 * The question a service lookup asks: for `https` on port 443 the HTTPS
 * records of the host itself; for `https` on another port those of
 * `_PORT._https.host` (RFC 9460 §9.1); for any other scheme the SVCB
 * records of `_PORT._scheme.host` (port-prefix naming, §2.3).
 *
 * @param host The host name (a trailing dot is kept off the prefix).
 * @param scheme The URI scheme, e.g. `"https"`; case does not matter.
 * @param port The port the caller dials.
 * @returns The name and the type to query.
 * @throws {TypeError} When the scheme cannot be a DNS label.
 * @throws {RangeError} When the port is not an integer 1–65535.
 */
export function serviceQuestion(
  host: string,
  scheme: string,
  port: number,
): ServiceQuestion {
  if (
    typeof scheme !== "string" || !/^[A-Za-z][A-Za-z0-9-]{0,61}$/.test(scheme)
  ) {
    throw new TypeError(
      `Cannot look up service records for the scheme "${
        String(scheme)
      }": expected a URI scheme of letters, digits and "-"`,
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(
      `Cannot look up service records for port ${port}: expected 1-65535`,
    );
  }
  const lower = scheme.toLowerCase();
  if (lower === "https") {
    return {
      name: port === 443 ? host : `_${port}._https.${host}`,
      qtype: TYPE_HTTPS,
    };
  }
  return { name: `_${port}._${lower}.${host}`, qtype: TYPE_SVCB };
}

/** What {@linkcode parseServiceRdata} made of one RDATA. */
export type ParsedService =
  | { record: ServiceRecord; error?: undefined }
  | { record?: undefined; error: string };

/**
 * Reads the RDATA of one SVCB or HTTPS record (RFC 9460 §2.2).
 *
 * AliasMode records (priority 0) come back with their target only: their
 * SvcParams must be ignored (§2.4.2). Unknown SvcParamKeys are skipped
 * (§2.4.3); hints beyond {@linkcode MAX_HINTS} are dropped. IPv4-mapped
 * addresses in `ipv6hint` are dropped too (they are no IPv6 endpoints).
 *
 * @param rdata The record's RDATA (a view of the message is fine).
 * @param ttl The record's TTL in seconds, copied to the record.
 * @returns The record, or why it must be ignored.
 */
export function parseServiceRdata(
  rdata: Uint8Array,
  ttl?: number,
): ParsedService {
  const view = new DataView(rdata.buffer, rdata.byteOffset, rdata.byteLength);
  if (rdata.length < 3) {
    return { error: "RDATA ends before SvcPriority and TargetName" };
  }
  const priority = view.getUint16(0);
  const target = readTarget(rdata, 2);
  if (typeof target === "string") return { error: target };
  const record: ServiceRecord = { priority, target: target.name };
  if (ttl !== undefined) record.ttl = ttl;
  if (priority === 0) return { record };
  const error = readParams(rdata, view, target.next, record);
  return error === undefined ? { record } : { error };
}

/**
 * Reads the uncompressed TargetName (§2.2): `"."` for the root, else the
 * name in lower case without the trailing dot.
 *
 * @returns The name and the offset after it, or the reason it is unusable.
 */
function readTarget(
  rdata: Uint8Array,
  start: number,
): { name: string; next: number } | string {
  let offset = start;
  let name = "";
  for (;;) {
    if (offset >= rdata.length) return "TargetName runs past the RDATA";
    const length = rdata[offset]!;
    if (length === 0) break;
    if (length > 63) {
      return "TargetName is compressed or has a reserved label type";
    }
    if (offset + 1 + length > rdata.length) {
      return "TargetName runs past the RDATA";
    }
    if (name.length !== 0) name += ".";
    for (let i = offset + 1; i <= offset + length; i++) {
      const c = rdata[i]!;
      // A dot, a space or a control or non-ASCII byte inside a label has
      // no text form a lookup could use: the record cannot be followed.
      if (c <= 0x20 || c >= 0x7f || c === 0x2e) {
        return "TargetName has a label that is not a host name";
      }
      name += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
    }
    offset += 1 + length;
    if (name.length > 253) return "TargetName is longer than 255 octets";
  }
  return { name: name === "" ? "." : name, next: offset + 1 };
}

/**
 * Reads the SvcParams into `record`.
 *
 * @returns Why the record must be ignored, or `undefined` when it is fine.
 */
function readParams(
  rdata: Uint8Array,
  view: DataView,
  start: number,
  record: ServiceRecord,
): string | undefined {
  let offset = start;
  let previous = -1;
  let mandatory: number[] = [];
  const seen = new Set<number>();
  while (offset < rdata.length) {
    if (offset + 4 > rdata.length) return "the RDATA ends inside a SvcParam";
    const key = view.getUint16(offset);
    const length = view.getUint16(offset + 2);
    offset += 4;
    if (key === previous) return `SvcParamKey ${keyName(key)} appears twice`;
    if (key < previous) {
      return `SvcParamKeys are not in increasing order (${keyName(key)} after ${
        keyName(previous)
      })`;
    }
    previous = key;
    if (offset + length > rdata.length) {
      return `the value of ${keyName(key)} runs past the RDATA`;
    }
    const value = rdata.subarray(offset, offset + length);
    offset += length;
    seen.add(key);
    if (key > KNOWN_KEYS) continue; // unknown keys are ignored (§2.4.3)
    const result = key === KEY_MANDATORY
      ? readMandatory(value)
      : readParam(key, value, record);
    if (typeof result === "string") return result;
    if (Array.isArray(result)) mandatory = result;
  }
  for (const key of mandatory) {
    if (key > KNOWN_KEYS) {
      return `mandatory key ${keyName(key)} is not understood (RFC 9460 §8)`;
    }
    if (!seen.has(key)) {
      return `mandatory key ${keyName(key)} is missing from the record`;
    }
  }
  if (record.noDefaultAlpn && record.alpn === undefined) {
    return "no-default-alpn without alpn";
  }
  return undefined;
}

/** The `mandatory` list (§8): keys in increasing order, never itself. */
function readMandatory(value: Uint8Array): number[] | string {
  if (value.length === 0 || value.length % 2 !== 0) {
    return `mandatory has a length of ${value.length}, not a list of keys`;
  }
  const keys: number[] = [];
  for (let i = 0; i < value.length; i += 2) {
    const key = (value[i]! << 8) | value[i + 1]!;
    if (key === KEY_MANDATORY) return "mandatory lists itself";
    const last = keys[keys.length - 1];
    if (last !== undefined && key <= last) {
      return key === last
        ? `mandatory lists ${keyName(key)} twice`
        : "mandatory keys are not in increasing order";
    }
    keys.push(key);
  }
  return keys;
}

/** One understood SvcParam other than `mandatory`, into `record`. */
function readParam(
  key: number,
  value: Uint8Array,
  record: ServiceRecord,
): string | undefined {
  const bad = () =>
    `${keyName(key)} has a malformed value (${value.length} octets)`;
  switch (key) {
    case KEY_ALPN: {
      const ids: string[] = [];
      for (let i = 0; i < value.length;) {
        const length = value[i]!;
        if (length === 0) return "alpn has an empty protocol id";
        if (i + 1 + length > value.length) return bad();
        ids.push(String.fromCharCode(...value.subarray(i + 1, i + 1 + length)));
        i += 1 + length;
      }
      if (ids.length === 0) return bad();
      record.alpn = ids;
      return undefined;
    }
    case KEY_NO_DEFAULT_ALPN:
      if (value.length !== 0) return bad();
      record.noDefaultAlpn = true;
      return undefined;
    case KEY_PORT:
      if (value.length !== 2) return bad();
      record.port = (value[0]! << 8) | value[1]!;
      return undefined;
    case KEY_IPV4HINT: {
      if (value.length === 0 || value.length % 4 !== 0) return bad();
      const hints: string[] = [];
      for (let i = 0; i < value.length && hints.length < MAX_HINTS; i += 4) {
        hints.push(value.subarray(i, i + 4).join("."));
      }
      record.ipv4hint = hints;
      return undefined;
    }
    case KEY_ECH:
      record.ech = new Uint8Array(value); // a copy, and no Buffer
      return undefined;
    case KEY_IPV6HINT: {
      if (value.length === 0 || value.length % 16 !== 0) return bad();
      const hints: string[] = [];
      for (let i = 0; i < value.length && hints.length < MAX_HINTS; i += 16) {
        const address = ipv6Text(value.subarray(i, i + 16));
        if (address !== undefined) hints.push(address);
      }
      record.ipv6hint = hints;
      return undefined;
    }
  }
  return undefined;
}

/** RFC 5952 text of 16 bytes; `undefined` for an IPv4-mapped address. */
function ipv6Text(bytes: Uint8Array): string | undefined {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  }
  const ip = parseIP(groups.join(":"));
  return ip?.family === 6 ? ip.address : undefined;
}
