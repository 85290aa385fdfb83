// The source-address probe of the adapters: a connected UDP socket, no
// packet sent; loopback destinations only.

import { test } from "./_test.ts";
import assert from "node:assert/strict";
import {
  clearSourceCache,
  probeSourceAddress,
} from "../runtimes/_source_probe.ts";

test("probeSourceAddress() finds the loopback source of a loopback destination (or says it cannot tell, on Deno)", async () => {
  clearSourceCache();
  const v4 = await probeSourceAddress({ address: "127.0.0.1", family: 4 });
  const v6 = await probeSourceAddress({ address: "::1", family: 6 });
  if ("Deno" in globalThis) {
    // Deno's node:dgram does not connect in the kernel: "unknown".
    assert.equal(v4, undefined);
    assert.equal(v6, undefined);
    return;
  }
  assert.deepEqual(v4, { address: "127.0.0.1", family: 4 });
  assert.deepEqual(v6, { address: "::1", family: 6 });
});

test("probeSourceAddress() reuses a definite answer, each caller getting its own copy", async () => {
  clearSourceCache();
  const first = await probeSourceAddress({ address: "127.0.0.2", family: 4 });
  const second = await probeSourceAddress({ address: "127.0.0.2", family: 4 });
  assert.deepEqual(second, first);
  if (first !== undefined && first !== null) assert.notEqual(second, first);
  clearSourceCache();
});

test("probeSourceAddress() answers unknown for an aborted signal", async () => {
  clearSourceCache();
  const value = await probeSourceAddress(
    { address: "127.0.0.3", family: 4 },
    { signal: AbortSignal.abort() },
  );
  assert.equal(value, undefined);
});
