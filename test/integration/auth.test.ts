/**
 * RUNWATCH_AUTH=token through the real route handlers: who gets 401, who 403, and that no
 * answer says whether a run exists.
 */
import { afterAll, describe, expect, it, vi } from "vitest";

const { ADMIN, VIEWER } = vi.hoisted(() => {
  // Before any import reads the environment (lib/env.ts parses it once).
  const tokens = { ADMIN: "test-admin-token-0123456789", VIEWER: "test-viewer-token-0123456789" };
  process.env.RUNWATCH_AUTH = "token";
  process.env.RUNWATCH_ADMIN_TOKEN = tokens.ADMIN;
  process.env.RUNWATCH_VIEWER_TOKEN = tokens.VIEWER;
  // Per client address; the tests below sign in from "unknown" (no X-Forwarded-For) a few times.
  process.env.RATE_LIMIT_SIGN_IN = "8";
  return tokens;
});

import { GET as healthRoute } from "@/app/api/health/route";
import { GET as metricsRoute } from "@/app/api/metrics/route";
import { GET as presetsRoute } from "@/app/api/v1/presets/route";
import { POST as controlRoute } from "@/app/api/v1/runs/[runId]/control/route";
import { GET as controlStreamRoute } from "@/app/api/v1/runs/[runId]/control/stream/route";
import { POST as eventsRoute } from "@/app/api/v1/runs/[runId]/events/route";
import { POST as heartbeatRoute } from "@/app/api/v1/runs/[runId]/heartbeat/route";
import { GET as runRoute } from "@/app/api/v1/runs/[runId]/route";
import { POST as selectRoute } from "@/app/api/v1/runs/[runId]/select/route";
import { GET as redisStreamRoute } from "@/app/api/v1/runs/[runId]/stream/redis/route";
import { GET as logStreamRoute } from "@/app/api/v1/runs/[runId]/stream/route";
import { GET as listRoute, POST as createRoute } from "@/app/api/v1/runs/route";
import { DELETE as signOutRoute, GET as sessionRoute, POST as signInRoute } from "@/app/api/v1/session/route";
import { GET as feedRoute } from "@/app/api/v1/stream/route";
import { agentsIdle } from "@/lib/orchestrator";
import { newRun, setupTestRedis } from "../support/helpers";

setupTestRedis();

const MISSING_RUN = "run-000000000000";
type Handler = (request: Request, context: { params: Promise<{ runId: string }> }) => Promise<Response> | Response;

interface Call {
  name: string;
  handler: Handler;
  method: "GET" | "POST";
  path: (runId: string) => string;
  body?: (runId: string) => unknown;
}

/** Routes for viewers and admins, with a harmless request each. */
const userRoutes: Call[] = [
  { name: "GET /runs", handler: (r) => listRoute(r), method: "GET", path: () => "/api/v1/runs" },
  { name: "GET /runs/:id", handler: runRoute, method: "GET", path: (id) => `/api/v1/runs/${id}` },
  { name: "GET stream/redis", handler: redisStreamRoute, method: "GET", path: (id) => `/api/v1/runs/${id}/stream/redis` },
  { name: "GET stream (logs)", handler: logStreamRoute, method: "GET", path: (id) => `/api/v1/runs/${id}/stream` },
  { name: "GET /stream (feed)", handler: (r) => feedRoute(r), method: "GET", path: () => "/api/v1/stream" },
  { name: "GET /presets", handler: (r) => presetsRoute(r), method: "GET", path: () => "/api/v1/presets" },
  { name: "GET /api/metrics", handler: (r) => metricsRoute(r), method: "GET", path: () => "/api/metrics" },
];

/** Routes for admins only. */
const adminRoutes: Call[] = [
  { name: "POST /runs", handler: (r) => createRoute(r), method: "POST", path: () => "/api/v1/runs", body: () => ({ prompt: "auth test", variations: 1, agent: "demo" }) },
  { name: "POST control", handler: controlRoute, method: "POST", path: (id) => `/api/v1/runs/${id}/control`, body: () => ({ action: "stop" }) },
  { name: "POST select", handler: selectRoute, method: "POST", path: (id) => `/api/v1/runs/${id}/select`, body: () => ({ winning_variation_id: "var-1" }) },
];

/** Routes for a run's agents. */
const agentRoutes: Call[] = [
  { name: "POST events", handler: eventsRoute, method: "POST", path: (id) => `/api/v1/runs/${id}/events`, body: (id) => ({ messages: [{ type: "log", content: "hello", run_id: id, variation_id: "var-1", sequence: 1, timestamp: new Date().toISOString(), metadata: { level: "info" } }] }) },
  { name: "POST heartbeat", handler: heartbeatRoute, method: "POST", path: (id) => `/api/v1/runs/${id}/heartbeat`, body: () => ({ variation_id: "var-1" }) },
  { name: "GET control/stream", handler: controlStreamRoute, method: "GET", path: (id) => `/api/v1/runs/${id}/control/stream?variation_id=var-1` },
];

const opened: AbortController[] = [];
afterAll(async () => {
  for (const controller of opened) controller.abort();
  await agentsIdle();
});

async function call(route: Call, runId: string, headers: Record<string, string> = {}): Promise<Response> {
  const controller = new AbortController();
  opened.push(controller);
  const body = route.body?.(runId);
  const request = new Request(`http://localhost${route.path(runId)}`, {
    method: route.method,
    headers: { ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    signal: controller.signal,
  });
  const response = await route.handler(request, { params: Promise.resolve({ runId }) });
  // Streams that opened are closed at once; only the status matters here.
  if (response.headers.get("content-type")?.startsWith("text/event-stream")) controller.abort();
  return response;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const errorOf = async (response: Response) => ((await response.json()) as { error: { code: string; message: string } }).error;

describe("RUNWATCH_AUTH=token", () => {
  it("answers 401 on every route without a credential, the same for a run that exists and one that does not", async () => {
    const run = await newRun(1);
    for (const route of [...userRoutes, ...adminRoutes, ...agentRoutes]) {
      const [existing, missing] = [await call(route, run.runId), await call(route, MISSING_RUN)];
      expect(existing.status, route.name).toBe(401);
      expect(missing.status, route.name).toBe(401);
      expect(existing.headers.get("www-authenticate"), route.name).toMatch(/^Bearer/);
      expect(await errorOf(existing), route.name).toEqual(await errorOf(missing));
    }
  });

  it("answers 401 to a wrong token and to an agent token on a viewer's route", async () => {
    const run = await newRun(1);
    for (const route of [...userRoutes, ...adminRoutes]) {
      const wrong = await call(route, run.runId, bearer("not-a-token-of-ours-at-all"));
      expect(wrong.status, route.name).toBe(401);
      expect((await errorOf(wrong)).message).toMatch(/neither the viewer nor the admin token/);
      const agent = await call(route, run.runId, bearer(run.agentToken));
      expect(agent.status, route.name).toBe(401);
      expect((await errorOf(agent)).message).toMatch(/agent token only opens its own run/);
    }
  });

  it("lets the viewer token read and follow, and answers 403 when it tries to change something", async () => {
    const run = await newRun(1);
    for (const route of userRoutes) expect((await call(route, run.runId, bearer(VIEWER))).status, route.name).toBe(200);
    for (const route of adminRoutes) {
      const response = await call(route, run.runId, bearer(VIEWER));
      expect(response.status, route.name).toBe(403);
      expect((await errorOf(response)).message).toMatch(/admin token/);
    }
    // Nothing was created by the refused POST /runs.
    const { runs } = (await (await call(userRoutes[0]!, run.runId, bearer(ADMIN))).json()) as { runs: unknown[] };
    expect(runs.length).toBeGreaterThan(0);
  });

  it("lets the admin token do everything a viewer can, and start runs", async () => {
    const run = await newRun(1);
    for (const route of userRoutes) expect((await call(route, run.runId, bearer(ADMIN))).status, route.name).toBe(200);
    const created = await call(adminRoutes[0]!, run.runId, bearer(ADMIN));
    expect(created.status).toBe(202);
    const control = await call(adminRoutes[1]!, run.runId, bearer(ADMIN));
    expect(control.status).toBe(202);
  });

  it("answers 403 to another run's agent token, whether or not the target run exists", async () => {
    const [mine, other] = [await newRun(1), await newRun(1)];
    for (const route of agentRoutes) {
      const own = await call(route, mine.runId, bearer(mine.agentToken));
      expect(own.status, route.name).toBeLessThan(300);
      for (const target of [other.runId, MISSING_RUN]) {
        const response = await call(route, target, bearer(mine.agentToken));
        expect(response.status, `${route.name} on ${target}`).toBe(403);
        expect((await errorOf(response)).message).toMatch(/another run/);
      }
      // A made-up token that names a run is a wrong token, on an existing run or a missing one.
      const forged = `rwa_${other.runId}.${"A".repeat(43)}`;
      const [onExisting, onMissing] = [await call(route, other.runId, bearer(forged)), await call(route, MISSING_RUN, bearer(forged))];
      expect(onExisting.status, route.name).toBe(401);
      expect(onMissing.status, route.name).toBe(401);
      expect(await errorOf(onExisting)).toEqual(await errorOf(onMissing));
    }
  });

  it("keeps /api/health open for probes", async () => {
    expect((await healthRoute()).status).toBe(200);
  });
});

describe("sessions", () => {
  // Sign-in is rate limited per address, and the test Redis is shared with other files (the fuzz
  // test signs in thousands of times without an address): these requests come from their own.
  const address = `198.51.100.${1 + Math.floor(Math.random() * 250)}`;
  const session = (method: "GET" | "POST", token?: string, headers: Record<string, string> = {}) =>
    new Request("http://localhost/api/v1/session", {
      method,
      headers: { "Content-Type": "application/json", "X-Forwarded-For": address, ...headers },
      body: token === undefined ? undefined : JSON.stringify({ token }),
    });
  const cookieOf = (response: Response) => response.headers.get("set-cookie")!.split(";")[0]!;

  it("signs in with a token into an httpOnly cookie that EventSource-style requests carry", async () => {
    const run = await newRun(1);
    const signedIn = await signInRoute(session("POST", VIEWER));
    expect(signedIn.status).toBe(200);
    expect(await signedIn.json()).toEqual({ auth: "token", role: "viewer" });
    const setCookie = signedIn.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^runwatch_session=v1\.viewer\./);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    const cookie = { Cookie: cookieOf(signedIn) };

    expect((await call(userRoutes[2]!, run.runId, cookie)).status).toBe(200);
    expect((await call(adminRoutes[1]!, run.runId, cookie)).status).toBe(403);
    expect(await (await sessionRoute(session("GET", undefined, cookie))).json()).toEqual({ auth: "token", role: "viewer" });

    const signedOut = signOutRoute(session("GET", undefined, cookie));
    expect(signedOut.headers.get("set-cookie")).toMatch(/^runwatch_session=; .*Max-Age=0/);
  });

  it("refuses a wrong token at sign-in, and a tampered cookie afterwards", async () => {
    const refused = await signInRoute(session("POST", "wrong-token-wrong-token"));
    expect(refused.status).toBe(401);
    expect(refused.headers.get("set-cookie")).toBeNull();

    const run = await newRun(1);
    const viewerCookie = cookieOf(await signInRoute(session("POST", VIEWER)));
    const tampered = viewerCookie.replace(".viewer.", ".admin.");
    expect((await call(adminRoutes[1]!, run.runId, { Cookie: tampered })).status).toBe(401);
    expect(await (await sessionRoute(session("GET", undefined, { Cookie: tampered }))).json()).toEqual({ auth: "token", role: null });
  });

  it("slows down guessing: sign-in attempts per address are limited (429 with Retry-After)", async () => {
    const guess = (address: string) => signInRoute(session("POST", "guessing-guessing-guessing", { "X-Forwarded-For": address }));
    for (let i = 0; i < 8; i++) expect((await guess("203.0.113.9")).status).toBe(401);
    const limited = await guess("203.0.113.9");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await errorOf(limited)).message).toMatch(/sign-in attempts/);
    // A made-up Authorization header does not buy a fresh bucket.
    expect((await signInRoute(session("POST", VIEWER, { "X-Forwarded-For": "203.0.113.9", Authorization: "Bearer made-up-1" }))).status).toBe(429);
    // The right token from that address waits too; another address is unaffected.
    expect((await signInRoute(session("POST", VIEWER, { "X-Forwarded-For": "203.0.113.9" }))).status).toBe(429);
    expect((await signInRoute(session("POST", VIEWER, { "X-Forwarded-For": "203.0.113.10" }))).status).toBe(200);
  });

  it("refuses a cookie-authenticated change from another site's page", async () => {
    const run = await newRun(1);
    const cookie = cookieOf(await signInRoute(session("POST", ADMIN)));
    const crossSite = await call(adminRoutes[1]!, run.runId, { Cookie: cookie, Origin: "https://evil.example", Host: "localhost" });
    expect(crossSite.status).toBe(403);
    expect((await errorOf(crossSite)).message).toMatch(/Cross-site/);
    const sameSite = await call(adminRoutes[1]!, run.runId, { Cookie: cookie, Origin: "http://localhost", Host: "localhost" });
    expect(sameSite.status).toBe(202);
  });
});
