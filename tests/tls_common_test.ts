// runtimes/_tls_common.ts: each runtime's handshake error, as it was
// recorded from Deno 2.9, Node 24 and Bun 1.4.5 against the fixtures of
// _tls_fixtures.ts, becomes a TLSError with Go's text and the right kind.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import { TLSError } from "../src/errors.ts";
import {
  closedDuringHandshake,
  isIPLiteral,
  tlsError,
} from "../runtimes/_tls_common.ts";

const VERIFY = "tls: failed to verify certificate: ";
const NAMES_WRONG =
  `${VERIFY}x509: certificate is valid for localhost, tls.test, race.test, *.tls.test, not wrong.test`;
const IPS_WRONG =
  `${VERIFY}x509: certificate is valid for 127.0.0.1, ::1, not 127.0.0.2`;
const UNKNOWN = `${VERIFY}x509: certificate signed by unknown authority`;
const EXPIRED = `${VERIFY}x509: certificate has expired or is not yet valid`;

function coded(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

const DENO_NAMES =
  'certificate is only valid for DnsName("localhost"), DnsName("tls.test"), DnsName("race.test"), DnsName("*.tls.test"), IpAddress(127.0.0.1) or IpAddress(0::1)';
const NODE_ALTNAMES =
  "DNS:localhost, DNS:tls.test, DNS:race.test, DNS:*.tls.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1";

const CASES: [string, unknown, string, TLSError["kind"], string][] = [
  [
    "Deno's name mismatch",
    new Error(
      `invalid peer certificate: certificate not valid for name "wrong.test"; ${DENO_NAMES}`,
    ),
    "wrong.test",
    "hostname",
    NAMES_WRONG,
  ],
  [
    "Deno's IP mismatch",
    new Error(
      `invalid peer certificate: certificate not valid for name "127.0.0.2"; ${DENO_NAMES}`,
    ),
    "127.0.0.2",
    "hostname",
    IPS_WRONG,
  ],
  [
    "Node's and Bun's name mismatch",
    coded(
      `Hostname/IP does not match certificate's altnames: Host: wrong.test. is not in the cert's altnames: ${NODE_ALTNAMES}`,
      "ERR_TLS_CERT_ALTNAME_INVALID",
    ),
    "wrong.test",
    "hostname",
    NAMES_WRONG,
  ],
  [
    "Node's and Bun's IP mismatch",
    coded(
      "Hostname/IP does not match certificate's altnames: IP: 127.0.0.2 is not in the cert's list: 127.0.0.1, ::1",
      "ERR_TLS_CERT_ALTNAME_INVALID",
    ),
    "127.0.0.2",
    "hostname",
    IPS_WRONG,
  ],
  [
    "a name mismatch that lists no names",
    coded("Hostname/IP does not match", "ERR_TLS_CERT_ALTNAME_INVALID"),
    "wrong.test",
    "hostname",
    `${VERIFY}x509: certificate is not valid for wrong.test`,
  ],
  [
    "Deno's unknown issuer",
    new Error("invalid peer certificate: UnknownIssuer"),
    "tls.test",
    "untrusted",
    UNKNOWN,
  ],
  [
    "Node's unknown issuer",
    coded(
      "unable to verify the first certificate; if the root CA is installed locally, try running Node.js with --use-system-ca",
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    ),
    "tls.test",
    "untrusted",
    UNKNOWN,
  ],
  [
    "a self-signed certificate",
    coded("self-signed certificate", "DEPTH_ZERO_SELF_SIGNED_CERT"),
    "tls.test",
    "untrusted",
    UNKNOWN,
  ],
  [
    "Deno's expired certificate",
    new Error(
      "invalid peer certificate: certificate expired: verification time 1795326667 (UNIX), but certificate is not valid after 949363200 (845963467 seconds ago)",
    ),
    "tls.test",
    "expired",
    EXPIRED,
  ],
  [
    "Node's and Bun's expired certificate",
    coded("certificate has expired", "CERT_HAS_EXPIRED"),
    "tls.test",
    "expired",
    EXPIRED,
  ],
  [
    "Deno's no_application_protocol alert",
    new Error("received fatal alert: NoApplicationProtocol"),
    "tls.test",
    "alpn",
    "tls: no application protocol",
  ],
  [
    "Node's no_application_protocol alert",
    coded(
      "40DD8916B47F0000:error:0A000460:SSL routines:ssl3_read_bytes:tlsv1 alert no application protocol:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 120\n",
      "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL",
    ),
    "tls.test",
    "alpn",
    "tls: no application protocol",
  ],
  [
    "Bun's no_application_protocol alert",
    coded(
      "error:10000460:SSL routines:OPENSSL_internal:TLSV1_ALERT_NO_APPLICATION_PROTOCOL",
      "EPROTO",
    ),
    "tls.test",
    "alpn",
    "tls: no application protocol",
  ],
  [
    "Deno's end of file mid-handshake",
    new Error("unexpected end of file"),
    "tls.test",
    "handshake",
    "tls: unexpected end of file",
  ],
  [
    "Node's and Bun's disconnect mid-handshake",
    coded(
      "Client network socket disconnected before secure TLS connection was established",
      "ECONNRESET",
    ),
    "tls.test",
    "handshake",
    "tls: Client network socket disconnected before secure TLS connection was established",
  ],
  [
    "an OpenSSL text without a known kind",
    coded(
      "40DD8916B47F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:354:\n",
      "ERR_SSL_WRONG_VERSION_NUMBER",
    ),
    "tls.test",
    "handshake",
    "tls: wrong version number",
  ],
];

for (const [what, err, serverName, kind, message] of CASES) {
  test(`tlsError() turns ${what} into a "${kind}" TLSError with Go's text`, () => {
    const tlsErr = tlsError(err, serverName);
    assert.ok(tlsErr instanceof TLSError);
    assert.equal(tlsErr.kind, kind);
    assert.equal(tlsErr.message, message);
    assert.equal(tlsErr.cause, err);
  });
}

test("tlsError() returns a TLSError as it is", () => {
  const given = new TLSError("tls: no application protocol", { kind: "alpn" });
  assert.equal(tlsError(given, "x.test"), given);
});

test("tlsError() takes a thrown non-Error", () => {
  const tlsErr = tlsError("boom", "x.test");
  assert.equal(tlsErr.kind, "handshake");
  assert.equal(tlsErr.message, "tls: boom");
});

test("closedDuringHandshake() is a handshake TLSError with Go's EOF", () => {
  const err = closedDuringHandshake();
  assert.equal(err.kind, "handshake");
  assert.equal(err.message, "tls: handshake failed: EOF");
});

test("isIPLiteral() tells IP literals from host names", () => {
  assert.equal(isIPLiteral("127.0.0.1"), true);
  assert.equal(isIPLiteral("::1"), true);
  assert.equal(isIPLiteral("tls.test"), false);
  assert.equal(isIPLiteral("1.2.3"), false);
});
