/**
 * Rate limits through the real route handlers, on a redis-server of this file's own (it is
 * stopped mid-way, and the counters are checked key by key). Small limits and a 2 s window,
 * set before lib/env.ts first reads them.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startRedis } from "../../scripts/lib/redis.mjs";

type Handler = (request: Request, context: { params: Promise<{ runId: string }> }) => Promise<Response>;

let redis: Awaited<ReturnType<typeof startRedis>>;
let dir: string;
let restoreUrl: string | undefined;
let routes: { createRun: Handler; control: Handler; select: Handler; events: Handler; heartbeat: Handler };
let lib: {
  keys: typeof import("@/lib/channels").keys;
  createRun: typeof import("@/lib/runs").createRun;
  getRedis: typeof import("@/lib/redis").getRedis;
  metrics: typeof import("@/lib/metrics").metrics;
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-rate-limit-"));
  redis = await startRedis({ dir, persistent: false });
  restoreUrl = process.env.REDIS_URL;
  Object.assign(process.env, {
    REDIS_URL: redis.url,
    RATE_LIMIT_WINDOW_SECONDS: "2",
    RATE_LIMIT_RUN_CREATION: "3",
    RATE_LIMIT_CONTROL: "2",
    RATE_LIMIT_AGENT: "4",
  });
  vi.resetModules();
  routes = {
    createRun: (await import("@/app/api/v1/runs/route")).POST as Handler,
    control: (await import("@/app/api/v1/runs/[runId]/control/route")).POST,
    select: (await import("@/app/api/v1/runs/[runId]/select/route")).POST,
    events: (await import("@/app/api/v1/runs/[runId]/events/route")).POST,
    heartbeat: (await import("@/app/api/v1/runs/[runId]/heartbeat/route")).POST,
  };
  lib = {
    keys: (await import("@/lib/channels")).keys,
    createRun: (await import("@/lib/runs")).createRun,
    getRedis: (await import("@/lib/redis")).getRedis,
    metrics: (await import("@/lib/metrics")).metrics,
  };
});

afterAll(async () => {
  const { closeRedis } = await import("@/lib/redis");
  await closeRedis();
  await redis.stop();
  process.env.REDIS_URL = restoreUrl;
  fs.rmSync(dir, { recursive: true, force: true });
});

const params = (runId: string) => ({ params: Promise.resolve({ runId }) });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function request(from: { ip?: string; token?: string }, body: string): Request {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (from.ip) headers["X-Forwarded-For"] = from.ip;
  if (from.token) headers.Authorization = `Bearer ${from.token}`;
  return new Request("http://localhost/x", { method: "POST", headers, body });
}

async function rateLimitedCount(route: string): Promise<number> {
  const { values } = await lib.metrics().rateLimited.get();
  return values.find((v) => v.labels.route === route)?.value ?? 0;
}

describe("run creation (RATE_LIMIT_RUN_CREATION=3 per 2 s)", () => {
  it("answers the 4th request from one address 429 with Retry-After, creates nothing, and lets others and later requests through", async () => {
    const client = { ip: "203.0.113.7" };
    const countedBefore = await rateLimitedCount("POST /api/v1/runs");
    // Refused bodies count too: the limit is checked before anything else.
    for (let i = 0; i < 3; i++) expect((await routes.createRun(request(client, "{not json"), params(""))).status).toBe(400);

    const refused = await routes.createRun(request(client, JSON.stringify({ prompt: "over the limit", variations: 1 })), params(""));
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    expect(await refused.json()).toEqual({
      error: {
        code: "too_many_requests",
        message: `Rate limit reached: at most 3 runs created per 2 s for each client (RATE_LIMIT_RUN_CREATION); retry in ${retryAfter} s`,
      },
    });
    expect(await lib.getRedis().zcard(lib.keys.runsIndex())).toBe(0);
    expect(await rateLimitedCount("POST /api/v1/runs")).toBe(countedBefore + 1);

    // Another address, and a request with credentials from the same address, count apart.
    expect((await routes.createRun(request({ ip: "203.0.113.8" }, "{not json"), params(""))).status).toBe(400);
    expect((await routes.createRun(request({ ...client, token: "someone" }, "{not json"), params(""))).status).toBe(400);

    await sleep(retryAfter * 1000 + 100);
    expect((await routes.createRun(request(client, "{not json"), params(""))).status).toBe(400);
  });

  it("keys by the last X-Forwarded-For entry, the address the nearest proxy saw", async () => {
    for (let i = 0; i < 3; i++) {
      // a client spoofing the first entry still lands on the proxy's view of it
      expect((await routes.createRun(request({ ip: `10.0.0.${i}, 198.51.100.4` }, "{not json"), params(""))).status).toBe(400);
    }
    expect((await routes.createRun(request({ ip: "10.9.9.9, 198.51.100.4" }, "{not json"), params(""))).status).toBe(429);
    expect(await lib.getRedis().exists(`${lib.keys.rateLimitPrefix("run_creation")}:ip:198.51.100.4`)).toBe(1);
  });
});

describe("control (RATE_LIMIT_CONTROL=2 per 2 s, shared by control and select)", () => {
  it("counts control and select together, per address", async () => {
    const client = { ip: "192.0.2.1" };
    expect((await routes.control(request(client, "{}"), params("run-*"))).status).toBe(400);
    expect((await routes.select(request(client, "{}"), params("run-*"))).status).toBe(400);
    const refused = await routes.control(request(client, JSON.stringify({ action: "stop" })), params("run-*"));
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/at most 2 control requests .* \(RATE_LIMIT_CONTROL\)/);
    expect((await routes.select(request({ ip: "192.0.2.2" }, "{}"), params("run-*"))).status).toBe(400);
  });
});

describe("agent publishing (RATE_LIMIT_AGENT=4 per 2 s, per token)", () => {
  it("limits one run's token without touching another's, publishes nothing when refused, and stores only the token's hash", async () => {
    const run = await lib.createRun({ prompt: "rate limits", agents: ["demo"] });
    const other = await lib.createRun({ prompt: "rate limits", agents: ["demo"] });
    const message = (sequence: number) => ({ type: "output", run_id: run.runId, variation_id: "var-1", sequence, timestamp: new Date().toISOString(), content: "x" });
    const post = (sequence: number) => routes.events(request({ ip: "127.0.0.1", token: run.agentToken }, JSON.stringify({ messages: [message(sequence)] })), params(run.runId));

    for (let sequence = 1; sequence <= 3; sequence++) expect((await post(sequence)).status).toBe(200);
    const beat = routes.heartbeat(request({ ip: "127.0.0.1", token: run.agentToken }, JSON.stringify({ variation_id: "var-1" })), params(run.runId));
    expect((await beat).status).toBe(204);
    const refused = await post(4);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^[12]$/);
    expect(await lib.getRedis().xlen(lib.keys.runEvents(run.runId))).toBe(3);

    const otherBeat = await routes.heartbeat(request({ ip: "127.0.0.1", token: other.agentToken }, JSON.stringify({ variation_id: "var-1" })), params(other.runId));
    expect(otherBeat.status).toBe(204);

    const counters = await lib.getRedis().keys(`${lib.keys.rateLimitPrefix("agent")}:*`);
    expect(counters.some((key) => key.includes(run.agentToken))).toBe(false);
    const hash = createHash("sha256").update(`Bearer ${run.agentToken}`).digest("hex");
    expect(counters).toContain(`${lib.keys.rateLimitPrefix("agent")}:auth:${hash}`);

    await sleep(2100);
    expect((await post(4)).status).toBe(200);
  });
});

describe("when Redis is down", () => {
  it("counts in memory instead (the insurance limiter): requests get their usual answer, then 429, never a limiter error", async () => {
    await redis.stop();
    const client = lib.getRedis();
    for (let i = 0; i < 50 && client.status === "ready"; i++) await sleep(20);
    expect(client.status).not.toBe("ready");
    try {
      const from = { ip: "203.0.113.99" };
      // 400: the limiter let them through, and the body check needs no Redis
      for (let i = 0; i < 3; i++) expect((await routes.createRun(request(from, "{not json"), params(""))).status).toBe(400);
      const refused = await routes.createRun(request(from, "{not json"), params(""));
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // past the limiter, a route that needs Redis answers its own 503
      const control = await routes.control(request(from, JSON.stringify({ action: "stop" })), params("run-aaaaaaaaaaaa"));
      expect(control.status).toBe(503);
    } finally {
      redis = await startRedis({ dir, persistent: false, port: redis.port });
    }
  });
});
