// The resolver conformance suite on Node, against runtimes/_node_resolver.ts.
// Deno and Bun have their own adapters (resolver_deno_test.ts,
// resolver_bun_test.ts); there this file registers one skipped test.
import { test } from "./_test.ts";
import { createResolver, resolver } from "../runtimes/_node_resolver.ts";
import { resolverConformance } from "./_resolver_conformance.ts";
import { serviceConformance } from "./_service_conformance.ts";

if (!("Deno" in globalThis) && !("Bun" in globalThis)) {
  resolverConformance({ name: "node", resolver, createResolver });
  serviceConformance({ name: "node", resolver, createResolver });
} else {
  test(
    "node resolver conformance runs on Node only",
    { skip: "not Node" },
    () => {},
  );
}
