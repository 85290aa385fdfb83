// Runs on: node, deno, bun
import { cachingResolver, createResolver, dial } from "@nettrace/nettrace/node";
import { startLocal } from "./_local.ts";

const local = await startLocal(); // db.test: an A record, no AAAA
const resolver = cachingResolver(
  createResolver({ nameServer: local.nameServer }),
  { maxTtl: 60 },
);
for (let i = 0; i < 2; i++) {
  const conn = await dial(`db.test:${local.port}`, {
    resolver,
    trace: { dnsDone: ({ cached }) => console.log("cached", cached) }, // false, true
  });
  conn.close();
}
console.log(JSON.stringify(resolver.stats()));
// {"hits":2,"misses":2,"inFlightHits":0,"negativeHits":1,"evictions":0,"errors":0,"size":2}
await local.close();
