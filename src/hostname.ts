/**
 * Host name checks: what may be sent to a resolver.
 *
 * @module
 */

import { parseIP } from "./address.ts";
import { AddrError } from "./errors.ts";

const MAX_NAME = 253;
const MAX_LABEL = 63;

function isLetterDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a);
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return false;
  }
  return true;
}

function describe(c: number): string {
  return c < 0x20 || c === 0x7f
    ? `control character U+${c.toString(16).toUpperCase().padStart(4, "0")}`
    : c === 0x20
    ? "space"
    : `character ${JSON.stringify(String.fromCharCode(c))}`;
}

/**
 * Whether the last label of an ASCII name is a number (`1`, `0177`, `0x7f`,
 * `0x`): such a name is no host name (no top-level domain is numeric, RFC
 * 3696 §2), and resolvers disagree on it — `getaddrinfo` reads `127.1`,
 * `0x7f.0.0.1` and `0177.0.0.1` as 127.0.0.1 (`inet_aton`), a DNS query
 * does not, and the WHATWG URL parser takes it for IPv4 too.
 */
function endsInNumber(name: string): boolean {
  const end = name.endsWith(".") ? name.length - 1 : name.length;
  const start = name.lastIndexOf(".", end - 1) + 1;
  const label = name.slice(start, end);
  return /^(?:[0-9]+|0[xX][0-9a-fA-F]*)$/.test(label);
}

/**
 * Why an ASCII name is not a domain name, or undefined when it is one. Go's
 * `isDomainName` rules: letters, digits, `-` and `_`; labels of 1–63
 * characters that neither start nor end with `-`; at most 253 characters
 * besides one trailing dot (a fully-qualified name).
 */
function asciiNameProblem(name: string): string | undefined {
  const end = name.endsWith(".") ? name.length - 1 : name.length;
  if (end === 0) return "empty name";
  if (end > MAX_NAME) return `name longer than ${MAX_NAME} characters`;
  let labelStart = 0;
  for (let i = 0; i <= end; i++) {
    const c = i === end ? 0x2e : name.charCodeAt(i);
    if (c === 0x2e) {
      const length = i - labelStart;
      if (length === 0) return "empty label";
      if (length > MAX_LABEL) {
        return `label longer than ${MAX_LABEL} characters`;
      }
      if (
        name.charCodeAt(labelStart) === 0x2d || name.charCodeAt(i - 1) === 0x2d
      ) {
        return "label starts or ends with '-'";
      }
      labelStart = i + 1;
    } else if (!isLetterDigit(c) && c !== 0x2d && c !== 0x5f) {
      return describe(c);
    }
  }
  return undefined;
}

/**
 * The form of `host` to send to a resolver: the name itself when it is an
 * ASCII domain name, its IDNA (punycode) form when it has non-ASCII letters
 * (`bücher.test` → `xn--bcher-kva.test`, through the WHATWG URL host
 * parser, UTS #46).
 *
 * Refused besides what is not a domain name: a host with a colon (only an
 * IPv6 literal may have one, and this one is not valid: `invalid IP
 * address`), a zone on anything but IPv6 (`127.0.0.1%eth0`), a name whose
 * last label is a number (`127.000.0.1`, `0x7f.1`: resolvers disagree on
 * it), and a name whose IDNA form is an IP address (`１２７．０．０．１`).
 *
 * @param host The host as dialled, not an IP literal.
 * @returns The ASCII name.
 * @throws {AddrError} `invalid domain name (…)` or `invalid IP address
 * (…)` saying what is wrong.
 */
export function lookupName(host: string): string {
  const percent = host.indexOf("%");
  const beforeZone = percent < 0 ? undefined : parseIP(host.slice(0, percent));
  if (host.includes(":")) {
    // Only brackets let a colon through splitHostPort: an IPv6 literal.
    throw new AddrError(
      beforeZone === undefined
        ? "invalid IP address"
        : beforeZone.family === 4
        ? "invalid IP address (a zone is allowed on IPv6 addresses only)"
        : "invalid IP address (invalid zone)",
      host,
    );
  }
  if (beforeZone !== undefined) {
    throw new AddrError(
      "invalid domain name (a zone is allowed on IPv6 addresses only)",
      host,
    );
  }
  let ascii = host;
  if (!isAscii(host)) {
    // Hand the URL parser only letters, digits, `-`, `_` and dots: any ASCII
    // it would treat specially (`/`, `@`, `%`, spaces…) is refused first.
    for (let i = 0; i < host.length; i++) {
      const c = host.charCodeAt(i);
      if (
        c < 0x80 && !isLetterDigit(c) && c !== 0x2d && c !== 0x5f &&
        c !== 0x2e
      ) {
        throw new AddrError(
          `invalid domain name (${describe(c)})`,
          host,
        );
      }
    }
    try {
      ascii = new URL(`http://${host}/`).hostname;
    } catch {
      throw new AddrError("invalid domain name (no IDNA form)", host);
    }
    if (parseIP(ascii.replace(/^\[|\]$/g, "")) !== undefined) {
      throw new AddrError(
        `invalid domain name (its IDNA form ${ascii} is an IP address)`,
        host,
      );
    }
  }
  const problem = asciiNameProblem(ascii);
  if (problem !== undefined) {
    throw new AddrError(`invalid domain name (${problem})`, host);
  }
  if (endsInNumber(ascii)) {
    throw new AddrError(
      "invalid domain name (it ends in a number but is not an IPv4 address)",
      host,
    );
  }
  return ascii;
}

/**
 * The key under which lookups of a name are shared: lower case, without
 * the trailing dot (`Example.TEST.` and `example.test` are one name).
 */
export function lookupKey(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}
