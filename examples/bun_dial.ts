// Runs on: bun
import { dial } from "@nettrace/nettrace/bun";
import { startLocal } from "./_local.ts";

const local = await startLocal(); // an echo server on localhost
const conn = await dial(`localhost:${local.port}`, { attemptDelay: 150 });
const writer = conn.writable.getWriter();
await writer.write(new TextEncoder().encode("PING\r\n"));
const { value } = await conn.readable.getReader().read();
console.log(new TextDecoder().decode(value).trim(), conn.remoteAddr);
conn.close();
await local.close();
