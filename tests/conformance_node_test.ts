// The adapter conformance suite on Node, against runtimes/node.ts.
// Deno and Bun have their own adapters (conformance_deno_test.ts,
// conformance_bun_test.ts); there this file registers one skipped test.
import { test } from "./_test.ts";
import type { Socket } from "node:net";
import * as node from "../runtimes/node.ts";
import { conformance, type ConnUnderTest } from "./_conformance.ts";

const onNode = !("Deno" in globalThis) && !("Bun" in globalThis);

/** Writes and reads through the `net.Socket` itself. */
function socketRoundTrip(
  conn: ConnUnderTest,
  bytes: Uint8Array,
): Promise<Uint8Array> {
  const socket = (conn as node.NodeConn).socket as Socket;
  return new Promise((resolve, reject) => {
    const back = new Uint8Array(bytes.byteLength);
    let got = 0;
    const onData = (chunk: Uint8Array) => {
      back.set(chunk, got);
      got += chunk.byteLength;
      if (got < bytes.byteLength) return;
      socket.off("data", onData);
      socket.off("error", reject);
      resolve(back);
    };
    socket.on("data", onData);
    socket.on("error", reject);
    socket.write(bytes);
  });
}

if (onNode) {
  conformance({
    name: "node",
    dial: node.dial,
    resolver: node.resolver,
    createResolver: node.createResolver,
    dialer: node.dialer,
    runWithContext: node.runWithContext,
    socketRoundTrip,
  });
} else {
  test(
    "node adapter conformance runs on Node only",
    { skip: "not Node" },
    () => {},
  );
}
