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
import { addrKey } from "./_ip.ts";
import type { Endpoint } from "./types.ts";

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
  return joinHostPort(
    endpoint.zone === "" ? endpoint.address : addrKey(endpoint),
    endpoint.port,
  );
}

// ── IP literals ────────────────────────────────────────────────────────

// The one IP parser and formatter live in _ip.ts, with the bytes the NAT64,
// RFC 6724 and policy code read; `parseIP` is re-exported here, unwrapped,
// because it runs on every dial.
export { parseIP } from "./_ip.ts";

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
