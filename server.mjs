#!/usr/bin/env node
/**
 * Runwatch's server: the production build served by Next's own request handler (a custom
 * server, as Next documents it), except the run stream `GET /api/v1/runs/<id>/stream/redis`,
 * which lib/node-stream.ts writes straight to the socket instead of through Next's web-stream
 * pipe (README, "Benchmark": that pipe is most of what a viewer costs). `npm start`, the Docker
 * image and the tests run this; `next start` still works, with every route a route handler.
 *
 *   node server.mjs [-p PORT] [-H HOST]      (or PORT and HOST in the environment)
 *
 * Without a host it binds every interface, as `next start` does.
 */
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const argv = process.argv.slice(2);
const option = (...names) => {
  const index = argv.findIndex((arg) => names.includes(arg));
  return index >= 0 ? argv[index + 1] : undefined;
};
const port = Number(option("-p", "--port") ?? process.env.PORT ?? 3000);
const host = option("-H", "--hostname") ?? process.env.HOST;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`[runwatch] cannot start: port "${option("-p", "--port") ?? process.env.PORT}" is not a port number`);
  process.exit(1);
}
process.env.NODE_ENV ??= "production";

// Imported after NODE_ENV is set: Next reads it when it loads.
const { default: next } = await import("next");
const app = next({ dev: false, dir: path.dirname(fileURLToPath(import.meta.url)), hostname: host ?? "localhost", port });
await app.prepare(); // runs instrumentation.ts, which offers the stream handler (lib/node-stream.ts)
const handleWithNext = app.getRequestHandler();
const handleStream = globalThis.runwatchNodeRequestHandler;
if (typeof handleStream !== "function") console.warn("[runwatch] the direct run stream is not available: Next serves it (lib/node-stream.ts)");

const server = http.createServer((req, res) => {
  if (handleStream?.(req, res)) return;
  handleWithNext(req, res).catch((error) => {
    console.error("[runwatch] request failed", error);
    if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
    res.end("Internal Server Error");
  });
});
server.listen(port, host, () => {
  const address = server.address();
  const shown = typeof address === "object" && address ? `${address.address.includes(":") ? `[${address.address}]` : address.address}:${address.port}` : String(address);
  console.log(`▲ Runwatch (Next.js production build) listening on http://${shown}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => process.exit(0));
