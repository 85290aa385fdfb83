// Happy Eyeballs v3 end to end on Node, against runtimes/node.ts.
import { test } from "./_test.ts";
import * as node from "../runtimes/node.ts";
import { serviceDialConformance } from "./_service_dial_conformance.ts";

serviceDialConformance({
  name: "node",
  dial: node.dial,
  createResolver: node.createResolver,
  test: (name, fn) => test(name, fn),
});
