/**
 * The run stream (`GET /api/v1/runs/<id>/stream/redis`) served straight to the socket, ahead of
 * Next's request handler, by Runwatch's server (server.mjs). Under `next start` the route
 * handler of the same path serves it; both run lib/run-stream.ts, and the route handler stays
 * the reference for what the route does (the same checks in the same order, the same answers).
 *
 * Why: Next pipes a route handler's `ReadableStream` to the socket through web streams, with
 * promises (and AsyncLocalStorage's hooks on each) for every chunk, and keeps its per-request
 * state for as long as the response streams. For a response that stays open and gets a small
 * chunk per message, that is most of what a viewer costs: about 72 KiB of memory and 30 µs a
 * chunk measured on a bare route handler, where Runwatch's own share is about 6 KiB (README,
 * "Benchmark"). Here the connection writes to the Node response itself, as a hand-written SSE
 * server would.
 */
import "server-only";
import type { IncomingMessage, ServerResponse } from "node:http";
import { requireViewer } from "./auth";
import { toErrorResponse } from "./errors";
import { lastEventIdOf, streamRunToNode } from "./run-stream";

const ROUTE = "GET /api/v1/runs/[runId]/stream/redis";
const STREAM_PATH = /^\/api\/v1\/runs\/([^/]+)\/stream\/redis\/?$/;

export type NodeRequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Serve `req` if it is a run stream request and answer true; false for anything else (Next's
 * handler takes it). Never throws: errors are answered as the route handler answers them.
 */
export const handleNodeStreamRequest: NodeRequestHandler = (req, res) => {
  if (req.method !== "GET" || !req.url) return false;
  let url: URL;
  try {
    url = new URL(req.url, "http://runwatch.invalid");
  } catch {
    return false; // not a URL at all (Node's parser lets `http://[` through): Next answers it
  }
  const match = STREAM_PATH.exec(url.pathname);
  if (!match) return false;
  void serve(req, res, url, match[1]!);
  return true;
};

async function serve(req: IncomingMessage, res: ServerResponse, url: URL, rawRunId: string): Promise<void> {
  const left = new AbortController();
  res.on("close", () => left.abort());
  try {
    // The checks read headers only (Authorization, the session cookie): a Request carrying them
    // lets lib/auth.ts judge this request exactly as it judges the route handler's.
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string") headers.set(name, value);
      else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    }
    const request = new Request(url, { headers });
    requireViewer(request);
    await streamRunToNode(decodeSegment(rawRunId), res, left.signal, lastEventIdOf(request));
  } catch (error) {
    await answer(res, toErrorResponse(error, ROUTE));
  }
}

/** Next decodes path segments before a route handler sees them; so do we. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // not valid percent-encoding: the run id check refuses it
  }
}

async function answer(res: ServerResponse, response: Response): Promise<void> {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const body = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, { ...Object.fromEntries(response.headers), "Content-Length": body.length });
  res.end(body);
}

const globalForServer = globalThis as unknown as { runwatchNodeRequestHandler?: NodeRequestHandler };

/**
 * Offer the handler to server.mjs, which runs Next in the same process and looks for it on
 * globalThis (it cannot import TypeScript from lib/; instrumentation-node.ts calls this while
 * Next prepares, before the first request).
 */
export function offerNodeStreamHandler(): void {
  globalForServer.runwatchNodeRequestHandler = handleNodeStreamRequest;
}
