// The TLS conformance suite on Node, against runtimes/node.ts.
// Deno and Bun have their own (tls_conformance_deno_test.ts,
// tls_conformance_bun_test.ts); there this file registers one skipped test.
import { test } from "./_test.ts";
import * as node from "../runtimes/node.ts";
import { tlsConformance, type TLSDialOptions } from "./_tls_conformance.ts";

/** A dial with `tls` is typed as returning the TLS conn (checked here). */
function dialTls(
  address: string,
  options: TLSDialOptions,
): Promise<node.NodeTLSConn> {
  return node.dial(address, options);
}

const onNode = !("Deno" in globalThis) && !("Bun" in globalThis);

if (onNode) {
  tlsConformance({
    name: "node",
    dialer: node.dialer,
    dial: dialTls,
  });
} else {
  test(
    "node TLS conformance runs on Node only",
    { skip: "not Node" },
    () => {},
  );
}
