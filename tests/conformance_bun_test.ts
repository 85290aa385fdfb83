// The adapter conformance suite on Bun, against runtimes/bun.ts.
// Deno and Node have their own adapters (conformance_deno_test.ts,
// conformance_node_test.ts); there this file registers one skipped test.
import { test } from "./_test.ts";
import * as bun from "../runtimes/bun.ts";
import { conformance, type ConnUnderTest } from "./_conformance.ts";

/** The Bun socket calls this test file uses beyond BunSocketLike. */
interface BunSocketForTest {
  write(data: Uint8Array): number;
  reload(options: {
    socket: {
      data(socket: unknown, data: Uint8Array): void;
      drain(socket: unknown): void;
      close(socket: unknown, error?: Error): void;
      error(socket: unknown, error: Error): void;
    };
  }): void;
}

/** Takes the socket's handlers over, as a user of `.socket` would. */
function socketRoundTrip(
  conn: ConnUnderTest,
  bytes: Uint8Array,
): Promise<Uint8Array> {
  const socket = (conn as bun.BunConn).socket as unknown as BunSocketForTest;
  return new Promise((resolve, reject) => {
    const back = new Uint8Array(bytes.byteLength);
    let got = 0;
    let sent = 0;
    const send = () => {
      while (sent < bytes.byteLength) {
        const n = socket.write(bytes.subarray(sent));
        if (n < 0) return reject(new Error("socket closed"));
        if (n === 0) return; // wait for drain
        sent += n;
      }
    };
    socket.reload({
      socket: {
        data(_socket, data) {
          back.set(data, got);
          got += data.byteLength;
          if (got === bytes.byteLength) resolve(back);
        },
        drain: send,
        close: (_socket, error) => reject(error ?? new Error("closed")),
        error: (_socket, error) => reject(error),
      },
    });
    send();
  });
}

if ("Bun" in globalThis) {
  conformance({
    name: "bun",
    dial: bun.dial,
    resolver: bun.resolver,
    createResolver: bun.createResolver,
    dialer: bun.dialer,
    runWithContext: bun.runWithContext,
    // Bun.connect cannot be cancelled once started.
    cancelsPendingConnect: false,
    socketRoundTrip,
  });
} else {
  test(
    "bun adapter conformance runs on Bun only",
    { skip: "not Bun" },
    () => {},
  );
}
