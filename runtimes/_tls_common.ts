/**
 * What the three TLS adapters share: turning each runtime's handshake error
 * into a {@linkcode TLSError} with Go's words, and telling an IP literal
 * from a host name (an IP gets no SNI and is checked against the IP SANs).
 *
 * The runtimes' texts this reads (Deno 2.9 / rustls, Node 24 / OpenSSL,
 * Bun 1.4 / BoringSSL):
 *
 * | failure        | Deno                                                        | Node and Bun                                                      |
 * | -------------- | ----------------------------------------------------------- | ----------------------------------------------------------------- |
 * | name mismatch  | `invalid peer certificate: certificate not valid for name "x"; certificate is only valid for DnsName("a"), IpAddress(127.0.0.1) or …` | `ERR_TLS_CERT_ALTNAME_INVALID`, `… is not in the cert's altnames: DNS:a, IP Address:127.0.0.1` (IP: `… is not in the cert's list: 127.0.0.1, ::1`) |
 * | unknown CA     | `invalid peer certificate: UnknownIssuer`                   | `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `DEPTH_ZERO_SELF_SIGNED_CERT`, … |
 * | expired        | `invalid peer certificate: certificate expired: …`          | `CERT_HAS_EXPIRED`, `CERT_NOT_YET_VALID`                          |
 * | ALPN refused   | `received fatal alert: NoApplicationProtocol`               | `ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL` (Bun: `EPROTO`, text `TLSV1_ALERT_NO_APPLICATION_PROTOCOL`) |
 *
 * @module
 */

import { parseIP } from "../src/address.ts";
import { TLSError, type TLSErrorKind } from "../src/errors.ts";

const VERIFY = "tls: failed to verify certificate: ";

/** OpenSSL verify codes (Node, Bun) meaning the chain has no trusted root. */
const UNTRUSTED_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_REJECTED",
  "INVALID_CA",
  "CERT_CHAIN_TOO_LONG",
  "PATH_LENGTH_EXCEEDED",
]);

/** OpenSSL verify codes (Node, Bun) meaning outside the validity period. */
const EXPIRED_CODES = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
]);

/**
 * Whether `serverName` is an IP literal (no SNI is sent; the IP SANs are
 * checked).
 *
 * @param serverName The name a handshake verifies.
 * @returns `true` for `127.0.0.1`, `::1` and the like.
 */
export function isIPLiteral(serverName: string): boolean {
  return parseIP(serverName) !== undefined;
}

/** Canonical text of an IP as the runtime printed it; else as given. */
function canonicalIP(text: string): string {
  return parseIP(text)?.address ?? text;
}

/**
 * The names a runtime's name-mismatch error says the certificate is valid
 * for: `{ dns, ip }`, or `undefined` when it does not say.
 */
function certificateNames(
  message: string,
): { dns: string[]; ip: string[] } | undefined {
  // Deno (rustls): DnsName("a.test"), IpAddress(127.0.0.1)
  if (message.includes("DnsName(") || message.includes("IpAddress(")) {
    const dns = [...message.matchAll(/DnsName\("([^"]*)"\)/g)].map((m) => m[1]);
    const ip = [...message.matchAll(/IpAddress\(([^)]*)\)/g)].map((m) =>
      canonicalIP(m[1])
    );
    return { dns, ip };
  }
  // Node and Bun: "… is not in the cert's altnames: DNS:a.test, IP Address:…"
  const altnames = /cert's altnames: (.*)$/s.exec(message);
  if (altnames !== null) {
    const dns: string[] = [];
    const ip: string[] = [];
    for (const entry of altnames[1].split(", ")) {
      if (entry.startsWith("DNS:")) dns.push(entry.slice(4).trim());
      else if (entry.startsWith("IP Address:")) {
        ip.push(canonicalIP(entry.slice(11).trim()));
      }
    }
    return { dns, ip };
  }
  // Node and Bun, for an IP: "IP: 127.0.0.2 is not in the cert's list: …"
  const list = /cert's list: (.*)$/s.exec(message);
  if (list !== null) {
    const ip = list[1].split(",").map((s) => s.trim()).filter((s) => s !== "")
      .map(canonicalIP);
    return { dns: [], ip };
  }
  return undefined;
}

/**
 * Go's `x509.HostnameError` text for `serverName`, with the certificate's
 * names when the runtime told them.
 */
function hostnameText(serverName: string, message: string): string {
  const names = certificateNames(message);
  if (names === undefined) {
    return `x509: certificate is not valid for ${serverName}`;
  }
  if (isIPLiteral(serverName)) {
    if (names.ip.length === 0) {
      return `x509: cannot validate certificate for ${serverName} because it doesn't contain any IP SANs`;
    }
    return `x509: certificate is valid for ${
      names.ip.join(", ")
    }, not ${serverName}`;
  }
  if (names.dns.length === 0) {
    return `x509: certificate is not valid for any names, but wanted to match ${serverName}`;
  }
  return `x509: certificate is valid for ${
    names.dns.join(", ")
  }, not ${serverName}`;
}

function classify(code: string, message: string): TLSErrorKind {
  if (
    code === "ERR_TLS_CERT_ALTNAME_INVALID" ||
    /certificate not valid for name|NotValidForName/.test(message)
  ) {
    return "hostname";
  }
  if (
    EXPIRED_CODES.has(code) ||
    /certificate expired|certificate not valid yet|NotValidYet|\bExpired\b/
      .test(message)
  ) {
    return "expired";
  }
  if (
    UNTRUSTED_CODES.has(code) ||
    /UnknownIssuer|BadSignature|self[- ]signed|unable to verify|unable to get (local )?issuer/i
      .test(message)
  ) {
    return "untrusted";
  }
  if (/no.?application.?protocol/i.test(code + " " + message)) return "alpn";
  return "handshake";
}

/**
 * Turns a runtime's failed-handshake error into a {@linkcode TLSError}
 * with Go's text and the runtime's error as `cause`.
 *
 * - name mismatch → `"hostname"`, `tls: failed to verify certificate:
 *   x509: certificate is valid for a.test, b.test, not wrong.test` (for an
 *   IP literal the IP SANs are listed; without the list:
 *   `x509: certificate is not valid for wrong.test`)
 * - unknown CA, self-signed → `"untrusted"`, `tls: failed to verify
 *   certificate: x509: certificate signed by unknown authority`
 * - outside the validity period → `"expired"`, `tls: failed to verify
 *   certificate: x509: certificate has expired or is not yet valid`
 * - the server's `no_application_protocol` alert → `"alpn"`,
 *   `tls: no application protocol`
 * - anything else → `"handshake"`, `tls: ` and the runtime's text.
 *
 * @param err The runtime's error (or anything thrown).
 * @param serverName The name (or IP) the handshake verified.
 * @returns The error to reject with; a `TLSError` given is returned as is.
 */
export function tlsError(err: unknown, serverName: string): TLSError {
  if (err instanceof TLSError) return err;
  const code = String((err as { code?: unknown } | null)?.code ?? "");
  const message = err instanceof Error
    ? err.message
    : String((err as { message?: unknown } | null)?.message ?? err);
  const kind = classify(code, message);
  switch (kind) {
    case "hostname":
      return new TLSError(VERIFY + hostnameText(serverName, message), {
        kind,
        cause: err,
      });
    case "untrusted":
      return new TLSError(
        VERIFY + "x509: certificate signed by unknown authority",
        { kind, cause: err },
      );
    case "expired":
      return new TLSError(
        VERIFY + "x509: certificate has expired or is not yet valid",
        { kind, cause: err },
      );
    case "alpn":
      return new TLSError("tls: no application protocol", {
        kind,
        cause: err,
      });
    default: {
      // OpenSSL's texts carry a queue position and a source line
      // ("40FD…:error:0A000126:SSL routines::unexpected eof while
      // reading:../deps/…"); keep the reason.
      const reason = /:SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ??
        message.trim();
      return new TLSError(
        `tls: ${reason === "" ? "handshake failed" : reason}`,
        {
          kind,
          cause: err,
        },
      );
    }
  }
}

/**
 * The error a handshake fails with when the peer closes the connection
 * before it completes (no error from the runtime): Go's text for a
 * connection that ends in the middle of the handshake.
 *
 * @param cause What the runtime reported, if anything.
 * @returns A `"handshake"` {@linkcode TLSError}.
 */
export function closedDuringHandshake(cause?: unknown): TLSError {
  return new TLSError("tls: handshake failed: EOF", {
    kind: "handshake",
    cause,
  });
}
