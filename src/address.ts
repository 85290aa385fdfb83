/**
 * The address layer: `host:port` splitting and joining, IP literal parsing
 * and port parsing, with the rules and error texts of Go's `net` package.
 *
 * Everything here is synchronous, allocation-light and linear in the length
 * of its input: it runs on every dial.
 *
 * @module
 */

import { AddrError, DNSError } from "./errors.ts";
import type { Endpoint, IPAddr } from "./types.ts";

// ── host:port ──────────────────────────────────────────────────────────

const MISSING_PORT = "missing port in address";
const TOO_MANY_COLONS = "too many colons in address";

/**
 * Splits a network address of the form `host:port`, `host%zone:port`,
 * `[host]:port` or `[host%zone]:port` into host (zone kept) and port,
 * exactly like Go's `net.SplitHostPort`.
 *
 * A literal IPv6 address must be in brackets. Neither part is checked: the
 * host may be empty (`":80"`) and so may the port (`"a:"`), as in Go.
 *
 * @param hostport The address to split.
 * @returns The host, without brackets, and the port, as text.
 * @throws {AddrError} With Go's reason: `"missing port in address"`,
 * `"too many colons in address"`, `"missing ']' in address"`,
 * `"unexpected '[' in address"` or `"unexpected ']' in address"`; the message
 * reads `address <hostport>: <reason>`.
 *
 * @example Splitting IPv4, IPv6 and zoned addresses
 * ```ts
 * import { splitHostPort } from "@nettrace/nettrace";
 *
 * splitHostPort("127.0.0.1:80"); // ["127.0.0.1", "80"]
 * splitHostPort("[::1]:443"); // ["::1", "443"]
 * splitHostPort("[fe80::1%eth0]:80"); // ["fe80::1%eth0", "80"]
 * ```
 *
 * @example Catching a missing port
 * ```ts
 * import { AddrError, splitHostPort } from "@nettrace/nettrace";
 *
 * try {
 *   splitHostPort("example.test");
 * } catch (err) {
 *   if (err instanceof AddrError) {
 *     console.log(err.message); // "address example.test: missing port in address"
 *   }
 * }
 * ```
 */
export function splitHostPort(hostport: string): [host: string, port: string] {
  // The port starts after the last colon.
  const colon = hostport.lastIndexOf(":");
  if (colon < 0) throw new AddrError(MISSING_PORT, hostport);

  let host: string;
  // No '[' may appear from `openFrom` on, no ']' from `closeFrom` on.
  let openFrom = 0;
  let closeFrom = 0;
  if (hostport.charCodeAt(0) === 0x5b /* [ */) {
    // The first ']' must sit right before the last ':'.
    const end = hostport.indexOf("]");
    if (end < 0) throw new AddrError("missing ']' in address", hostport);
    if (end + 1 === hostport.length) {
      // No ':' can follow the ']'.
      throw new AddrError(MISSING_PORT, hostport);
    }
    if (end + 1 !== colon) {
      // Either ']' is not followed by a colon, or by one that is not the last.
      throw new AddrError(
        hostport.charCodeAt(end + 1) === 0x3a /* : */
          ? TOO_MANY_COLONS
          : MISSING_PORT,
        hostport,
      );
    }
    host = hostport.slice(1, end);
    openFrom = 1;
    closeFrom = end + 1;
  } else {
    host = hostport.slice(0, colon);
    if (host.indexOf(":") >= 0) throw new AddrError(TOO_MANY_COLONS, hostport);
  }
  if (hostport.indexOf("[", openFrom) >= 0) {
    throw new AddrError("unexpected '[' in address", hostport);
  }
  if (hostport.indexOf("]", closeFrom) >= 0) {
    throw new AddrError("unexpected ']' in address", hostport);
  }
  return [host, hostport.slice(colon + 1)];
}

/**
 * Combines a host and a port into `host:port`, putting the host in brackets
 * when it contains a colon (a literal IPv6 address), like Go's
 * `net.JoinHostPort`. The inverse of {@linkcode splitHostPort}.
 *
 * @param host The host name or IP literal, zone included, without brackets.
 * @param port The port, as a number or as text (a service name is kept).
 * @returns The joined address.
 *
 * @example Joining IPv4 and IPv6 addresses
 * ```ts
 * import { joinHostPort } from "@nettrace/nettrace";
 *
 * joinHostPort("127.0.0.1", 80); // "127.0.0.1:80"
 * joinHostPort("::1", "https"); // "[::1]:https"
 * joinHostPort("fe80::1%eth0", 80); // "[fe80::1%eth0]:80"
 * ```
 */
export function joinHostPort(host: string, port: string | number): string {
  return host.indexOf(":") >= 0 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Formats an endpoint the way Go prints a `net.TCPAddr`, the `addr` of
 * trace hooks and error messages: `127.0.0.1:80`, `[::1]:80`,
 * `[fe80::1%eth0]:80`.
 *
 * @param endpoint The address (canonical text), optional zone and port.
 * @returns `joinHostPort(address[%zone], port)`.
 *
 * @example Formatting an IPv6 endpoint with a zone
 * ```ts
 * import { formatEndpoint } from "@nettrace/nettrace";
 *
 * formatEndpoint({ address: "fe80::1", family: 6, zone: "eth0", port: 80 });
 * // "[fe80::1%eth0]:80"
 * ```
 */
export function formatEndpoint(endpoint: Endpoint): string {
  const { address, zone, port } = endpoint;
  return joinHostPort(
    zone === undefined || zone === "" ? address : `${address}%${zone}`,
    port,
  );
}

// ── IP literals ────────────────────────────────────────────────────────

/**
 * Parses an IP literal: dotted-quad IPv4, or IPv6 in any RFC 4291 text form
 * with an optional `%zone`. Returns `undefined` for anything else (host
 * names, brackets, whitespace, ports).
 *
 * - IPv4 needs exactly four decimal parts, each 0–255 without leading zeros
 *   (Go ≥ 1.17 rejects `010.0.0.1`); no hex, octal or short forms.
 * - IPv6 accepts `::`, upper case, and a dotted IPv4 tail in the last 32
 *   bits. `address` is the canonical RFC 5952 text: lower case, no leading
 *   zeros, the longest run of two or more zero groups compressed (the first
 *   on ties). An embedded IPv4 tail that is not IPv4-mapped is printed in
 *   hex, as Go prints it (`::1.2.3.4` → `::102:304`).
 * - An IPv4-mapped address (`::ffff:a.b.c.d`, in any spelling) is IPv4, as
 *   in Go: it yields `{ address: "a.b.c.d", family: 4 }`. With a zone it is
 *   rejected.
 * - A zone is allowed on IPv6 only and must be non-empty printable ASCII
 *   without `%`, `[` or `]` (Go accepts any bytes; these would make the
 *   address unusable in `[host%zone]:port`).
 *
 * @param text The text to parse.
 * @returns The address, or `undefined` when `text` is not an IP literal.
 *
 * @example Telling IP literals from host names
 * ```ts
 * import { parseIP } from "@nettrace/nettrace";
 *
 * parseIP("127.0.0.1"); // { address: "127.0.0.1", family: 4 }
 * parseIP("2001:DB8:0:0:0:0:0:1"); // { address: "2001:db8::1", family: 6 }
 * parseIP("fe80::1%eth0"); // { address: "fe80::1", family: 6, zone: "eth0" }
 * parseIP("::ffff:10.0.0.1"); // { address: "10.0.0.1", family: 4 }
 * parseIP("localhost"); // undefined
 * ```
 */
export function parseIP(text: string): IPAddr | undefined {
  // As Go's netip.ParseAddr: the first '.' or ':' decides the family.
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e /* . */) {
      return parseIPv4(text, 0, length) < 0
        ? undefined
        : { address: text, family: 4 };
    }
    if (c === 0x3a /* : */) return parseIPv6Text(text);
    if (!isHexDigit(c)) return undefined;
  }
  return undefined;
}

/** Scratch space for the eight 16-bit groups of an IPv6 address. */
const GROUPS = new Uint16Array(8);

function parseIPv6Text(text: string): IPAddr | undefined {
  let end = text.indexOf("%");
  let zone: string | undefined;
  if (end < 0) {
    end = text.length;
  } else {
    if (!isValidZone(text, end + 1)) return undefined;
    zone = text.slice(end + 1);
  }
  if (!parseIPv6(text, end, GROUPS)) return undefined;
  const g = GROUPS;
  if (
    g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 &&
    g[5] === 0xffff
  ) {
    // IPv4-mapped: Go treats it as IPv4. A zone makes no sense on IPv4.
    if (zone !== undefined) return undefined;
    return {
      address: `${g[6] >> 8}.${g[6] & 0xff}.${g[7] >> 8}.${g[7] & 0xff}`,
      family: 4,
    };
  }
  const address = formatIPv6(g);
  return zone === undefined
    ? { address, family: 6 }
    : { address, family: 6, zone };
}

/** Zones: one or more of `!`–`~` except `%`, `[`, `]`. */
function isValidZone(text: string, start: number): boolean {
  const length = text.length;
  if (start >= length) return false;
  for (let i = start; i < length; i++) {
    const c = text.charCodeAt(i);
    if (
      c < 0x21 || c > 0x7e || c === 0x25 /* % */ || c === 0x5b /* [ */ ||
      c === 0x5d /* ] */
    ) {
      return false;
    }
  }
  return true;
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) ||
    (c >= 0x41 && c <= 0x46);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Parses `text[start, end)` as a dotted-quad IPv4 address, Go's rules.
 *
 * @returns The address as an unsigned 32-bit number, or -1 when invalid.
 */
function parseIPv4(text: string, start: number, end: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && octet === 0) return -1; // leading zero
      octet = octet * 10 + (c - 0x30);
      if (octet > 255) return -1;
      digits++;
    } else if (c === 0x2e /* . */) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/**
 * Parses `text[0, end)` as IPv6 text (RFC 4291 §2.2) into `out`, Go's
 * netip rules: 1–4 hex digits per group, at most one `::` standing for at
 * least one zero group, an optional dotted IPv4 tail in the last 32 bits.
 *
 * @returns Whether the text was valid; `out` is filled only then.
 */
function parseIPv6(text: string, end: number, out: Uint16Array): boolean {
  let pos = 0;
  let count = 0; // groups parsed
  let ellipsis = -1; // group index where "::" stands, if any

  if (end >= 2 && text.charCodeAt(0) === 0x3a && text.charCodeAt(1) === 0x3a) {
    ellipsis = 0;
    pos = 2;
  }
  while (pos < end) {
    // One group of 1–4 hex digits.
    const fieldStart = pos;
    let acc = 0;
    while (pos < end) {
      const digit = hexValue(text.charCodeAt(pos));
      if (digit < 0) break;
      if (pos - fieldStart === 4) return false; // 5th digit
      acc = acc * 16 + digit;
      pos++;
    }
    if (pos === fieldStart) return false; // empty group (":::", ":1", "1:")

    if (pos < end && text.charCodeAt(pos) === 0x2e /* . */) {
      // The IPv4 tail, reread from the group's start as decimal.
      if ((ellipsis < 0 && count !== 6) || count > 6) return false;
      const v4 = parseIPv4(text, fieldStart, end);
      if (v4 < 0) return false;
      out[count++] = v4 >>> 16;
      out[count++] = v4 & 0xffff;
      pos = end;
      break;
    }

    out[count++] = acc;
    if (pos === end) break;
    if (text.charCodeAt(pos) !== 0x3a /* : */) return false;
    pos++;
    if (pos === end) return false; // trailing single ':'
    if (text.charCodeAt(pos) === 0x3a) {
      if (ellipsis >= 0) return false; // second "::"
      ellipsis = count;
      pos++;
      if (pos === end) break;
    }
    if (count === 8) return false; // more after eight groups
  }

  if (count < 8) {
    if (ellipsis < 0) return false; // too short
    const shift = 8 - count;
    for (let j = count - 1; j >= ellipsis; j--) out[j + shift] = out[j];
    for (let j = ellipsis; j < ellipsis + shift; j++) out[j] = 0;
  } else if (ellipsis >= 0) {
    return false; // "::" must stand for at least one group
  }
  return true;
}

/** `n.toString(16)` and its two-digit form for every byte value. */
const HEX: readonly string[] = Array.from(
  { length: 256 },
  (_, n) => n.toString(16),
);
const HEX2: readonly string[] = Array.from(
  { length: 256 },
  (_, n) => n.toString(16).padStart(2, "0"),
);

/** `group.toString(16)`, without `Number.prototype.toString`'s cost. */
function hex(group: number): string {
  return group < 0x100 ? HEX[group] : HEX[group >> 8] + HEX2[group & 0xff];
}

/** RFC 5952 §4 text of eight groups. */
function formatIPv6(g: Uint16Array): string {
  // The longest run of two or more zero groups, the first on ties.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) {
    return hex(g[0]) + ":" + hex(g[1]) + ":" + hex(g[2]) + ":" + hex(g[3]) +
      ":" + hex(g[4]) + ":" + hex(g[5]) + ":" + hex(g[6]) + ":" + hex(g[7]);
  }
  let s = bestStart === 0 ? ":" : "";
  for (let i = 0; i < bestStart; i++) s += hex(g[i]) + ":";
  s += ":";
  for (let i = bestStart + bestLength; i < 8; i++) {
    s += i === bestStart + bestLength ? hex(g[i]) : ":" + hex(g[i]);
  }
  return s;
}

// ── ports ──────────────────────────────────────────────────────────────

/** The services Go knows without a services file (`net.services["tcp"]`). */
const TCP_SERVICES: ReadonlyMap<string, number> = new Map([
  ["ftp", 21],
  ["ftps", 990],
  ["gopher", 70],
  ["http", 80],
  ["https", 443],
  ["imap2", 143],
  ["imap3", 220],
  ["imaps", 993],
  ["pop3", 110],
  ["pop3s", 995],
  ["smtp", 25],
  ["ssh", 22],
  ["telnet", 23],
]);

/** The longest name in {@linkcode TCP_SERVICES}. */
const LONGEST_SERVICE = 6;

/** Go's saturation limits in `parsePort`. */
const CUTOFF = 1 << 30;
const MAX_UINT32 = 0xffffffff;

/**
 * Parses a port the way Go's `net.LookupPort` does for TCP: `""` is 0; an
 * optional `+` or `-` and decimal digits are a number (huge values saturate
 * and then fail the range check); anything else is a service name, looked
 * up case-insensitively in Go's built-in table (ftp 21, ftps 990, gopher 70,
 * http 80, https 443, imap2 143, imap3 220, imaps 993, pop3 110, pop3s 995,
 * smtp 25, ssh 22, telnet 23). No services file is read.
 *
 * One deliberate difference: Go's parser can wrap around 2³² and accept
 * `"4294967376"` as port 80 (golang/go#80168); here such values saturate
 * and are rejected.
 *
 * @param service The port text, as {@linkcode splitHostPort} returned it.
 * @param network The network, for the error text; `"tcp4"` and `"tcp6"`
 * report as `"tcp"`, as in Go.
 * @returns The port, 0–65535.
 * @throws {AddrError} `address <service>: invalid port` for a number
 * outside 0–65535, or `address <network>: unknown network` for a network
 * other than `tcp`, `tcp4`, `tcp6` when a name must be looked up.
 * @throws {DNSError} `lookup tcp/<service>: unknown port` (with
 * `isNotFound`) for a name not in the table.
 *
 * @example Numbers and service names
 * ```ts
 * import { parsePort } from "@nettrace/nettrace";
 *
 * parsePort("8080"); // 8080
 * parsePort("HTTPS"); // 443
 * parsePort(""); // 0
 * ```
 *
 * @example Catching an out-of-range port
 * ```ts
 * import { AddrError, parsePort } from "@nettrace/nettrace";
 *
 * try {
 *   parsePort("65536");
 * } catch (err) {
 *   if (err instanceof AddrError) {
 *     console.log(err.message); // "address 65536: invalid port"
 *   }
 * }
 * ```
 */
export function parsePort(service: string, network?: string): number {
  const length = service.length;
  if (length === 0) return 0; // Go: "" means port 0 (golang/go#13610)

  let i = 0;
  let negative = false;
  const sign = service.charCodeAt(0);
  if (sign === 0x2b /* + */) {
    i = 1;
  } else if (sign === 0x2d /* - */) {
    negative = true;
    i = 1;
  }
  let n = 0;
  for (; i < length; i++) {
    const c = service.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return lookupService(service, network);
    // Go stops reading once the value has saturated: what follows is
    // ignored, so "99999999999x" is an invalid port, not a service name.
    if (n >= CUTOFF) {
      n = MAX_UINT32;
      break;
    }
    n = n * 10 + (c - 0x30);
    if (n > MAX_UINT32) {
      n = MAX_UINT32;
      break;
    }
  }
  let port: number;
  if (!negative && n >= CUTOFF) port = CUTOFF - 1;
  else if (negative && n > CUTOFF) port = CUTOFF;
  else port = n;
  if (negative) port = 0 - port; // never -0

  if (port < 0 || port > 65535) throw new AddrError("invalid port", service);
  return port;
}

function lookupService(service: string, network: string | undefined): number {
  if (
    network !== undefined && network !== "tcp" && network !== "tcp4" &&
    network !== "tcp6"
  ) {
    throw new AddrError("unknown network", network);
  }
  const length = service.length;
  if (length <= LONGEST_SERVICE) {
    // ASCII-only lower-casing, as Go does.
    let key = "";
    for (let i = 0; i < length; i++) {
      const c = service.charCodeAt(i);
      key += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
    }
    const port = TCP_SERVICES.get(key);
    if (port !== undefined) return port;
  }
  throw new DNSError("unknown port", `tcp/${service}`, { isNotFound: true });
}
