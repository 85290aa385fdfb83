// Runs on: node, deno, bun
import { createResolver } from "@nettrace/nettrace/node";
import { createFetch } from "@nettrace/nettrace/fetch";
import { startLocal } from "./_local.ts";

const local = await startLocal(); // an HTTPS server, api.tls.test in DNS
const fetch = createFetch({
  attemptDelay: 150,
  resolver: createResolver({ nameServer: local.nameServer }),
  caCerts: [local.caCert],
});
const url = `https://api.tls.test:${local.httpsPort}/v1/health`;
const response = await fetch(url, {
  trace: {
    getConn: ({ hostPort }) => console.log("get", hostPort),
    connectDone: ({ addr, error }) => console.log(addr, error?.message ?? "ok"),
    gotConn: ({ reused }) => console.log("got conn, reused:", reused),
    gotFirstResponseByte: () => console.log("first byte"),
  },
});
console.log(response.status, await response.text());
await fetch.close();
await local.close();
