// The dialer conformance suite on Bun, against runtimes/_bun_dialer.ts.
// Deno and Node have their own adapters (dialer_deno_test.ts,
// dialer_node_test.ts); there this file registers one skipped test.
import { test } from "./_test.ts";
import { type BunConn, dialer } from "../runtimes/_bun_dialer.ts";
import {
  type ConnUnderTest,
  dialerConformance,
} from "./_dialer_conformance.ts";

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
  const socket = (conn as BunConn).socket as unknown as BunSocketForTest;
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
  dialerConformance({
    name: "bun",
    dialer,
    // Bun.connect cannot be cancelled once started.
    cancelsPendingConnect: false,
    socketRoundTrip,
  });
} else {
  test(
    "bun dialer conformance runs on Bun only",
    { skip: "not Bun" },
    () => {},
  );
}
