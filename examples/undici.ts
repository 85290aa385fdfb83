// Runs on: node
import { Agent, fetch } from "undici";
import { createResolver } from "@nettrace/nettrace/node";
import { undiciConnector } from "@nettrace/nettrace/undici";
import { startLocal } from "./_local.ts";

const local = await startLocal(); // an HTTPS server, api.tls.test in DNS
const dispatcher = new Agent({
  connect: undiciConnector({
    attemptDelay: 150,
    resolver: createResolver({ nameServer: local.nameServer }),
    caCerts: [local.caCert],
    trace: {
      dnsDone: ({ host, addrs }) =>
        console.log(host, addrs.map((a) => a.address)),
      connectDone: ({ addr, error }) =>
        console.log(addr, error?.message ?? "ok"),
      tlsHandshakeDone: ({ alpnProtocol }) => console.log("alpn", alpnProtocol),
    },
  }),
});
const url = `https://api.tls.test:${local.httpsPort}/v1/health`;
const response = await fetch(url, { dispatcher });
console.log(response.status, await response.text());
await dispatcher.close();
await local.close();
