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
    ? "control character"
    : c === 0x20
    ? "space"
    : `character ${JSON.stringify(String.fromCharCode(c))}`;
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
 * @param host The host as dialled, not an IP literal.
 * @returns The ASCII name.
 * @throws {AddrError} `invalid domain name (…)` saying what is wrong.
 */
export function lookupName(host: string): string {
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
