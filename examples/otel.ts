// Runs on: node, deno, bun
import { createResolver, dial as nodeDial } from "@nettrace/nettrace/node";
import { withOpenTelemetry } from "@nettrace/nettrace/otel";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { startLocal } from "./_local.ts";

// The SDK set-up an application does once (here: spans kept in memory).
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const local = await startLocal(); // service.test: ::1 and 127.0.0.1
const resolver = createResolver({ nameServer: local.nameServer });
const dial = withOpenTelemetry(nodeDial); // or /deno, /bun, the core dial
await trace.getTracer("app").startActiveSpan("GET /users", async (span) => {
  const conn = await dial(`service.test:${local.port}`, { resolver });
  conn.close();
  span.end();
});
for (const span of exporter.getFinishedSpans()) console.log(span.name);
await provider.shutdown();
await local.close();
