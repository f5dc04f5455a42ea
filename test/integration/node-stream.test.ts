/**
 * The run stream served straight to the socket (lib/node-stream.ts, what server.mjs answers the
 * stream path with) behind a real HTTP server: the same events and the same error answers as
 * the route handler `next start` uses, a viewer that leaves is let go, and one that stops
 * reading is cut off without holding the server's memory.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GET as redisStreamRoute } from "@/app/api/v1/runs/[runId]/stream/redis/route";
import { metrics } from "@/lib/metrics";
import { handleNodeStreamRequest } from "@/lib/node-stream";
import { getSubscriber } from "@/lib/subscriber";
import { eventually, newRun, openStream, publishers, setupTestRedis, viewerPatterns } from "../support/helpers";

const redisClient = setupTestRedis();
let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (!handleNodeStreamRequest(req, res)) res.writeHead(404, { "Content-Type": "text/plain" }).end("not the stream: Next would answer");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** An event as a viewer sees it: what the two paths must agree on. */
const shown = (e: { event?: string; id?: string; data: string }) => `${e.event} ${e.id ?? ""} ${e.data}`;

describe("the run stream written to the Node response", () => {
  it("sends what the route handler sends: history, live events, run_complete, and the same after a resume", async () => {
    const run = await newRun(2);
    const [a, b] = publishers(redisClient(), run);
    await a!.status("running");
    await a!.output("# Hello");
    const direct = await openStream(run.runId, "redis", undefined, baseUrl);
    const routed = await openStream(run.runId, "redis");
    expect(direct.response.status).toBe(200);
    expect(direct.response.headers.get("content-type")).toBe(routed.response.headers.get("content-type"));
    expect(direct.response.headers.get("cache-control")).toBe("no-cache, no-transform");
    await direct.reader!.waitForEvents(2);
    await b!.status("running");
    await b!.log("thinking");
    await a!.status("completed");
    await b!.status("failed", { error: "model refused", exit_code: 3 });
    for (const { reader } of [direct, routed]) await reader!.ended;
    const events = direct.reader!.events.map(shown);
    expect(events.at(-1)).toMatch(/^run_complete /);
    expect(events).toEqual(routed.reader!.events.map(shown));

    // Resuming after the second event: the rest, exactly as the route handler resumes.
    const cursor = direct.reader!.events[1]!.id!;
    const resumedDirect = await openStream(run.runId, "redis", cursor, baseUrl);
    const resumedRouted = await openStream(run.runId, "redis", cursor);
    for (const { reader } of [resumedDirect, resumedRouted]) await reader!.ended;
    expect(resumedDirect.reader!.events.map(shown)).toEqual(resumedRouted.reader!.events.map(shown));
    expect(resumedDirect.reader!.events.map(shown)).toEqual(events.slice(2));
  });

  it("answers a bad run id, a bad Last-Event-ID and an unknown run as the route handler does", async () => {
    const cases: [string, Record<string, string>][] = [
      ["run-*", {}],
      ["run-%00abc", {}],
      ["run-aaaaaaaaaaaa", {}],
      ["run-aaaaaaaaaaaa", { "Last-Event-ID": "yesterday" }],
    ];
    for (const [runId, headers] of cases) {
      const direct = await fetch(`${baseUrl}/api/v1/runs/${runId}/stream/redis`, { headers });
      const routed = await redisStreamRoute(new Request(`http://localhost/api/v1/runs/${runId}/stream/redis`, { headers }), { params: Promise.resolve({ runId: decodeURIComponent(runId) }) });
      expect(direct.status, runId).toBe(routed.status);
      expect(direct.status, runId).toBeGreaterThanOrEqual(400);
      expect(await direct.json(), runId).toEqual(await routed.json());
    }
    // Not a URL at all (Node's HTTP parser lets it through): left to Next, not thrown.
    expect(handleNodeStreamRequest({ method: "GET", url: "http://[" } as http.IncomingMessage, {} as http.ServerResponse)).toBe(false);
    // Not the stream path: left to Next.
    expect((await fetch(`${baseUrl}/api/v1/runs/run-aaaaaaaaaaaa/stream`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/api/v1/runs/run-aaaaaaaaaaaa/stream/redis`, { method: "POST" })).status).toBe(404);
  });

  it("answers 503 as the route handler does when subscribing fails, not a 200 that is then cut", async () => {
    const run = await newRun(1);
    const subscriber = getSubscriber();
    const failOnce = () => vi.spyOn(subscriber, "subscribe").mockRejectedValueOnce(Object.assign(new Error("Reached the max retries per request limit (which is 1)"), { name: "MaxRetriesPerRequestError" }));
    failOnce();
    const direct = await fetch(`${baseUrl}/api/v1/runs/${run.runId}/stream/redis`);
    failOnce();
    const routed = await redisStreamRoute(new Request(`http://localhost/api/v1/runs/${run.runId}/stream/redis`), { params: Promise.resolve({ runId: run.runId }) });
    vi.restoreAllMocks();
    expect(direct.status).toBe(503);
    expect(direct.status).toBe(routed.status);
    expect(direct.headers.get("retry-after")).toBe(routed.headers.get("retry-after"));
    expect(await direct.json()).toEqual(await routed.json());
  });

  it("lets a viewer that leaves go: its connection is closed and its run unsubscribed", async () => {
    const run = await newRun(1);
    const open = () => metrics().connectionsOpen.get().then((m) => m.values.find((v) => v.labels.backend === "redis")?.value ?? 0);
    const before = await open();
    const { reader } = await openStream(run.runId, "redis", undefined, baseUrl);
    await reader!.waitForConnectionEvent("stream_open");
    expect(await open()).toBe(before + 1);
    expect(viewerPatterns()).toContain(`run:${run.runId}:*`);
    reader!.abort();
    await eventually(open, (n) => n === before);
    await eventually(async () => viewerPatterns(), (patterns) => !patterns.includes(`run:${run.runId}:*`));
  });

  it("cuts off a viewer that stops reading once it is past the slow-viewer limit, and lets it go", async () => {
    const run = await newRun(1);
    // A raw socket that sends the request and then never reads a byte.
    const socket = net.connect((server.address() as AddressInfo).port, "127.0.0.1");
    socket.write(`GET /api/v1/runs/${run.runId}/stream/redis HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    socket.pause();
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    await eventually(async () => viewerPatterns(), (patterns) => patterns.includes(`run:${run.runId}:*`));
    const dropped = async () => (await metrics().slowViewersDropped.get()).values.find((v) => v.labels.backend === "redis")?.value ?? 0;
    const droppedBefore = await dropped();
    const [agent] = publishers(redisClient(), run);
    const content = "x".repeat(16_000);
    // 16 MB for the viewer: past the 8 MiB limit plus what the kernel's socket buffers take.
    for (let i = 0; i < 1_000 && (await dropped()) === droppedBefore; i++) await agent!.output(content);
    expect(await dropped()).toBe(droppedBefore + 1);
    socket.resume(); // read what was sent: the server has ended the response
    await closed;
    await eventually(async () => viewerPatterns(), (patterns) => !patterns.includes(`run:${run.runId}:*`));
  }, 60_000);
});
