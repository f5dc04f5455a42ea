/**
 * A real HTTP server in front of the app's route handlers, for tests whose client is another
 * process (an agent over HTTP). Each request becomes the web Request Next would hand the
 * handler, and its Response is streamed back, so what is tested is the handlers themselves.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";

type Handler = (request: Request, context: { params: Promise<{ runId: string }> }) => Promise<Response> | Response;

export interface Route {
  method: string;
  /** With one capture group: the run id. */
  path: RegExp;
  handler: Handler;
}

export interface RouteServer {
  url: string;
  close(): Promise<void>;
}

export async function startRouteServer(routes: Route[]): Promise<RouteServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const route = routes.find((r) => r.method === req.method && r.path.test(url.pathname));
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(url, {
      method: req.method,
      headers: Object.entries(req.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? v.join(", ") : v] as [string, string]])),
      body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
      signal: abort.signal,
      // @ts-expect-error Node's fetch needs this for a streamed request body
      duplex: "half",
    });
    const runId = route.path.exec(url.pathname)?.[1] ?? "";
    void (async () => {
      const response = await route.handler(request, { params: Promise.resolve({ runId }) });
      res.writeHead(response.status, Object.fromEntries(response.headers));
      if (!response.body) return res.end();
      const reader = response.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          res.write(value);
        }
      } catch {
        // the client went away
      }
      res.end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
