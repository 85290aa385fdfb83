// Runs on: node, deno, bun
import { dial } from "@nettrace/nettrace/node"; // or /deno, /bun
import { startLocal } from "./_local.ts";

const local = await startLocal(); // a TLS server with a test CA
const conn = await dial(`localhost:${local.tlsPort}`, {
  timeout: 5_000,
  tls: {
    alpnProtocols: ["h2", "http/1.1"],
    caCerts: [local.caCert], // default: the runtime's roots
    // serverName: "localhost",   (default: the dialled host)
    // successPoint: "tls",
  },
  trace: {
    tlsHandshakeStart: ({ serverName, addr }) =>
      console.log("tls", addr, serverName),
    tlsHandshakeDone: ({ alpnProtocol, tlsVersion, error }) =>
      console.log(error?.message ?? `${tlsVersion} ${alpnProtocol}`),
  },
});
console.log("alpn", conn.alpnProtocol);
conn.close();
await local.close();
