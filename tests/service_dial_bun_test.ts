// Happy Eyeballs v3 end to end on Bun, against runtimes/bun.ts.
import { test } from "./_test.ts";
import * as bun from "../runtimes/bun.ts";
import { serviceDialConformance } from "./_service_dial_conformance.ts";

serviceDialConformance({
  name: "bun",
  dial: bun.dial,
  createResolver: bun.createResolver,
  test: (name, fn) => test(name, fn),
});
