// The dialer conformance suite on Deno, against runtimes/_deno_dialer.ts.
// Bun and Node have their own adapters (dialer_bun_test.ts,
// dialer_node_test.ts); there this file registers one skipped test.
import { test } from "./_test.ts";
import { dialer } from "../runtimes/_deno_dialer.ts";
import { dialerConformance } from "./_dialer_conformance.ts";

if ("Deno" in globalThis) {
  dialerConformance({
    name: "deno",
    dialer,
    // Deno's TcpConn: closing `writable` closes the whole connection, and a
    // second `close()` throws BadResource.
    writableCloseHalfCloses: false,
    connCloseIdempotent: false,
    // An aborted Deno.connect rejects when its cancelled op settles.
    abortSettlesOnNextTurn: true,
  });
} else {
  test(
    "deno dialer conformance runs on Deno only",
    { skip: "not Deno" },
    () => {},
  );
}
