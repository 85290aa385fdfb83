// Runs on: node
import {
  background,
  dial,
  runWithContext,
  withTrace,
} from "@nettrace/nettrace/node";
import { startLocal } from "./_local.ts";

const local = await startLocal(); // an echo server on 127.0.0.1 and ::1

// Trace every dial a library makes, without touching the library:
const ctx = withTrace(background, {
  connectDone: ({ addr, error }) =>
    console.log("dial", addr, error?.message ?? "ok"),
});
await runWithContext(ctx, async () => {
  const conn = await dial(`127.0.0.1:${local.port}`); // or: someDriver.connect()
  conn.socket.end("bye\n");
});
await local.close();
