/**
 * The raw baseline every scale scenario measures against: what a team would hand-roll, and
 * nothing more. A node:http server whose GET /runs/<id>/stream is an SSE response fed by ONE
 * shared ioredis subscriber: the first viewer of a run PSUBSCRIBEs `run:<id>:*`, the last one
 * to leave PUNSUBSCRIBEs; each published message is framed once and written to every viewer of
 * its run. No history, no validation, no heartbeats, no slow-viewer limit.
 *
 * Run as its own process (`node dist/bench/baseline.mjs <redis url>`), like `next start`, so its
 * memory can be read on its own; it prints {"port": n} once listening.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import Redis from "ioredis";

export function startBaselineServer(redisUrl: string): http.Server {
  const subscriber = new Redis(redisUrl, { connectionName: "baseline:subscriber" });
  const viewers = new Map<string, Set<http.ServerResponse>>();
  const subscribed = new Map<string, Promise<unknown>>();
  subscriber.on("pmessage", (pattern: string, channel: string, payload: string) => {
    const set = viewers.get(pattern);
    if (!set || channel.endsWith(":control")) return;
    const { id, message } = JSON.parse(payload) as { id: string; message: { type: string } };
    const event = message.type === "log" ? "agent_log" : message.type === "status" ? "agent_status" : message.type === "metric" ? "agent_metric" : "agent_output";
    const frame = `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(message)}\n\n`;
    for (const res of set) res.write(frame);
  });
  return http.createServer((req, res) => {
    const match = /^\/runs\/([\w-]+)\/stream$/.exec(req.url ?? "");
    if (!match) return void res.writeHead(404).end();
    const pattern = `run:${match[1]}:*`;
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    let set = viewers.get(pattern);
    if (!set) {
      viewers.set(pattern, (set = new Set()));
      subscribed.set(pattern, subscriber.psubscribe(pattern));
    }
    set.add(res);
    // Tell the viewer it is live once Redis has confirmed the subscription.
    void subscribed.get(pattern)?.then(() => res.write(": open\n\n"));
    res.on("close", () => {
      set.delete(res);
      if (set.size === 0 && viewers.get(pattern) === set) {
        viewers.delete(pattern);
        subscribed.delete(pattern);
        void subscriber.punsubscribe(pattern);
      }
    });
  });
}

if (process.argv[1]?.endsWith("baseline.mjs")) {
  const server = startBaselineServer(process.argv[2] ?? "redis://127.0.0.1:6379");
  server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: (server.address() as AddressInfo).port })));
  // An orderly exit on the bench's SIGTERM, so Node flags that write at exit (--cpu-prof) do.
  process.once("SIGTERM", () => process.exit(0));
}
