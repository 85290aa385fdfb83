// Happy Eyeballs v3 end to end on Deno, against runtimes/deno.ts (tests
// registered through _test.ts, so Deno's sanitizers are on).
import { test } from "./_test.ts";
import * as deno from "../runtimes/deno.ts";
import { serviceDialConformance } from "./_service_dial_conformance.ts";

serviceDialConformance({
  name: "deno",
  dial: deno.dial,
  createResolver: deno.createResolver,
  test: (name, fn) => test(name, fn),
});
