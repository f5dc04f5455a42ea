/**
 * A load-generator thread: holds many SSE viewers (node:http, one keep-alive agent without a
 * socket limit, lighter than fetch for thousands of streams), parses their frames and records
 * for every `agent_output` the time from publish (the message's content is its publish time,
 * epoch ms with fractions) to the event being parsed here. Driven by bench/viewers.ts.
 */
import http from "node:http";
import { parentPort } from "node:worker_threads";
import { Histogram } from "./histogram";

interface Viewer {
  url: string;
  request: http.ClientRequest;
  received: number;
  open: boolean;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const viewers: Viewer[] = [];
let histogram = new Histogram();
let firstError = "";
const now = () => performance.timeOrigin + performance.now();

/** Minimal SSE parsing: frames end with a blank line; only `event:` and `data:` matter here. */
function onFrame(viewer: Viewer, frame: string): void {
  let event = "message";
  let data = "";
  for (const line of frame.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(line[5] === " " ? 6 : 5);
  }
  if (event !== "agent_output") return;
  const sent = Number((JSON.parse(data) as { content: string }).content);
  histogram.record(now() - sent);
  viewer.received++;
}

function openViewer(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const viewer: Viewer = { url, request: undefined as unknown as http.ClientRequest, received: 0, open: false };
    let settled = false;
    const settle = (ok: boolean) => {
      if (!settled) resolve(ok);
      settled = true;
    };
    viewer.request = http.get(url, { agent, headers: { Accept: "text/event-stream" } }, (res) => {
      if (res.statusCode !== 200) {
        firstError ||= `${url} answered ${res.statusCode}`;
        res.resume();
        settle(false);
        return;
      }
      viewer.open = true;
      viewers.push(viewer);
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk: string) => {
        settle(true); // the first bytes (stream_open, or the baseline's comment) mean it is live
        buffer += chunk;
        for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
          onFrame(viewer, buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      });
      const closed = () => {
        viewer.open = false;
        settle(false);
      };
      res.on("end", closed);
      res.on("error", closed);
      res.on("close", closed);
    });
    viewer.request.on("error", (error) => {
      firstError ||= `${url}: ${error.message}`;
      settle(false);
    });
    viewer.request.setTimeout(60_000, () => viewer.request.destroy());
  });
}

/** Opens the viewers with bounded concurrency; resolves with how many went live. */
async function openAll(urls: string[], concurrency: number): Promise<{ ok: number; failed: number; error: string }> {
  let next = 0;
  let ok = 0;
  const lane = async () => {
    while (next < urls.length) {
      const url = urls[next++]!;
      if (await openViewer(url)) ok++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, lane));
  for (const v of viewers) v.request.setTimeout(0);
  return { ok, failed: urls.length - ok, error: firstError };
}

/** Per stream URL: open viewers and the events they received, summed. */
function receivedByUrl(): Record<string, { viewers: number; received: number }> {
  const byUrl: Record<string, { viewers: number; received: number }> = {};
  for (const v of viewers) {
    const entry = (byUrl[v.url] ??= { viewers: 0, received: 0 });
    entry.viewers++;
    entry.received += v.received;
  }
  return byUrl;
}

export type WorkerCommand = { id: number } & ({ type: "open"; urls: string[]; concurrency: number } | { type: "reset" } | { type: "stats" } | { type: "close" });

parentPort!.on("message", async (command: WorkerCommand) => {
  const reply = (body: object) => parentPort!.postMessage({ id: command.id, ...body });
  switch (command.type) {
    case "open":
      reply(await openAll(command.urls, command.concurrency));
      return;
    case "reset":
      histogram = new Histogram();
      for (const v of viewers) v.received = 0;
      reply({});
      return;
    case "stats":
      reply({ histogram: histogram.toJSON(), byUrl: receivedByUrl(), open: viewers.filter((v) => v.open).length });
      return;
    case "close":
      for (const v of viewers) v.request.destroy();
      viewers.length = 0;
      agent.destroy();
      reply({});
  }
});
