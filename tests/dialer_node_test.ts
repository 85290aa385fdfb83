// The dialer conformance suite on Node, against runtimes/_node_dialer.ts.
// Deno and Bun have their own adapters (dialer_deno_test.ts,
// dialer_bun_test.ts); there this file registers one skipped test.
import { test } from "./_test.ts";
import type { Socket } from "node:net";
import { dialer, type NodeConn } from "../runtimes/_node_dialer.ts";
import {
  type ConnUnderTest,
  dialerConformance,
} from "./_dialer_conformance.ts";

const onNode = !("Deno" in globalThis) && !("Bun" in globalThis);

function socketRoundTrip(
  conn: ConnUnderTest,
  bytes: Uint8Array,
): Promise<Uint8Array> {
  const socket = (conn as NodeConn).socket as Socket;
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
  dialerConformance({ name: "node", dialer, socketRoundTrip });
} else {
  test(
    "node dialer conformance runs on Node only",
    { skip: "not Node" },
    () => {},
  );
}
