// The resolver conformance suite on Bun, against runtimes/_bun_resolver.ts.
// Deno and Node have their own adapters (resolver_deno_test.ts,
// resolver_node_test.ts); there this file registers one skipped test.
import { test } from "./_test.ts";
import { createResolver, resolver } from "../runtimes/_bun_resolver.ts";
import { resolverConformance } from "./_resolver_conformance.ts";
import { serviceConformance } from "./_service_conformance.ts";

if ("Bun" in globalThis) {
  resolverConformance({ name: "bun", resolver, createResolver });
  serviceConformance({ name: "bun", resolver, createResolver });
} else {
  test(
    "bun resolver conformance runs on Bun only",
    { skip: "not Bun" },
    () => {},
  );
}
