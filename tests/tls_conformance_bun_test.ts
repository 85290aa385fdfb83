// The TLS conformance suite on Bun, against runtimes/bun.ts.
// Deno and Node have their own (tls_conformance_deno_test.ts,
// tls_conformance_node_test.ts); there this file registers one skipped test.
import { test } from "./_test.ts";
import * as bun from "../runtimes/bun.ts";
import { tlsConformance, type TLSDialOptions } from "./_tls_conformance.ts";

/** A dial with `tls` is typed as returning the TLS conn (checked here). */
function dialTls(
  address: string,
  options: TLSDialOptions,
): Promise<bun.BunTLSConn> {
  return bun.dial(address, options);
}

if ("Bun" in globalThis) {
  tlsConformance({
    name: "bun",
    dialer: bun.dialer,
    dial: dialTls,
  });
} else {
  test("bun TLS conformance runs on Bun only", { skip: "not Bun" }, () => {});
}
