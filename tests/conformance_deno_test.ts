// The adapter conformance suite on Deno, against runtimes/deno.ts.
// Bun and Node have their own adapters (conformance_bun_test.ts,
// conformance_node_test.ts); there this file registers one skipped test.
//
// On Deno the tests are registered with Deno.test rather than node:test:
// Deno runs node:test tests without its op and resource sanitizers, and
// since Deno 2.8 Deno.test has them off unless asked, so they are asked for
// here, per test.
import { test } from "./_test.ts";
import * as deno from "../runtimes/deno.ts";
import { conformance } from "./_conformance.ts";

if ("Deno" in globalThis) {
  conformance({
    name: "deno",
    dial: deno.dial,
    resolver: deno.resolver,
    createResolver: deno.createResolver,
    dialer: deno.dialer,
    runWithContext: deno.runWithContext,
    test: (name, fn) =>
      Deno.test({
        name,
        sanitizeOps: true,
        sanitizeResources: true,
        fn: () => fn({ diagnostic: (message) => console.log(`# ${message}`) }),
      }),
  });
} else {
  test(
    "deno adapter conformance runs on Deno only",
    { skip: "not Deno" },
    () => {},
  );
}
