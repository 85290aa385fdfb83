// Runs on: node, deno, bun
import { createResolver, dial } from "@nettrace/nettrace/node"; // or /deno, /bun
import { startLocal } from "./_local.ts";

const local = await startLocal(); // a DNS server that serves *.test
// A DNS server of your own (never /etc/hosts):
const resolver = createResolver({ nameServer: local.nameServer });
const conn = await dial(`service.test:${local.port}`, { resolver });
console.log("service.test ->", conn.remoteAddr.hostname);
conn.close();
await local.close();
