// The resolver conformance suite on Deno, against runtimes/_deno_resolver.ts.
// Bun and Node have their own adapters (resolver_bun_test.ts,
// resolver_node_test.ts); there this file registers one skipped test.
import { test } from "./_test.ts";
import { createResolver, resolver } from "../runtimes/_deno_resolver.ts";
import { resolverConformance } from "./_resolver_conformance.ts";
import { serviceConformance } from "./_service_conformance.ts";

if ("Deno" in globalThis) {
  resolverConformance({ name: "deno", resolver, createResolver });
  serviceConformance({ name: "deno", resolver, createResolver });
} else {
  test(
    "deno resolver conformance runs on Deno only",
    { skip: "not Deno" },
    () => {},
  );
}
