// The TLS conformance suite on Deno, against runtimes/deno.ts.
// Bun and Node have their own (tls_conformance_bun_test.ts,
// tls_conformance_node_test.ts); there this file registers one skipped test.
import { test } from "./_test.ts";
import * as deno from "../runtimes/deno.ts";
import { tlsConformance, type TLSDialOptions } from "./_tls_conformance.ts";

/** A dial with `tls` is typed as returning the TLS conn (checked here). */
function dialTls(
  address: string,
  options: TLSDialOptions,
): Promise<deno.DenoTLSConn> {
  return deno.dial(address, options);
}

if ("Deno" in globalThis) {
  tlsConformance({
    name: "deno",
    dialer: deno.dialer,
    dial: dialTls,
    // Deno 2.9: closing a TlsConn mid-handshake frees the resource and
    // rejects the handshake, but the TCP socket stays open until the peer
    // answers or closes (Deno's handshake task holds it).
    handshakeAbortClosesSocket: false,
  });
} else {
  test(
    "deno TLS conformance runs on Deno only",
    { skip: "not Deno" },
    () => {},
  );
}
