/**
 * Size and count limits through the real route handlers against a real Redis: each refusal's
 * status and message, and that a refused request changed nothing (no run, nothing published).
 * Limits come from lib/env.ts defaults, except a small MAX_MESSAGE_BYTES set below.
 */
import { describe, expect, it } from "vitest";
import { POST as controlRoute } from "@/app/api/v1/runs/[runId]/control/route";
import { GET as controlStreamRoute } from "@/app/api/v1/runs/[runId]/control/stream/route";
import { POST as eventsRoute } from "@/app/api/v1/runs/[runId]/events/route";
import { POST as heartbeatRoute } from "@/app/api/v1/runs/[runId]/heartbeat/route";
import { GET as getRunRoute } from "@/app/api/v1/runs/[runId]/route";
import { POST as selectRoute } from "@/app/api/v1/runs/[runId]/select/route";
import { GET as logStreamRoute } from "@/app/api/v1/runs/[runId]/stream/route";
import { GET as redisStreamRoute } from "@/app/api/v1/runs/[runId]/stream/redis/route";
import { POST as createRunRoute } from "@/app/api/v1/runs/route";
import { keys } from "@/lib/channels";
import { newRun, setupTestRedis } from "../support/helpers";

// Read by lib/env.ts on first use, which is after this.
process.env.MAX_MESSAGE_BYTES = "4096";

const redis = setupTestRedis();
const params = (runId: string) => ({ params: Promise.resolve({ runId }) });
const json = (body: unknown) => (typeof body === "string" ? body : JSON.stringify(body));

function createRun(body: unknown): Promise<Response> {
  return createRunRoute(new Request("http://localhost/api/v1/runs", { method: "POST", body: json(body), headers: { "Content-Type": "application/json" } }));
}

function postEvents(runId: string, body: unknown, token: string): Promise<Response> {
  return eventsRoute(
    new Request(`http://localhost/api/v1/runs/${runId}/events`, { method: "POST", body: json(body), headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` } }),
    params(runId),
  );
}

function message(runId: string, sequence: number, content = "hello") {
  return { type: "output", run_id: runId, variation_id: "var-1", sequence, timestamp: new Date().toISOString(), content };
}

async function error(response: Response): Promise<{ code: string; message: string }> {
  return ((await response.json()) as { error: { code: string; message: string } }).error;
}

/** Prompts of runs created since `since` (ms): a refused request must add none. */
async function promptsSince(since: number): Promise<string[]> {
  const ids = await redis().zrangebyscore(keys.runsIndex(), since, "+inf");
  return Promise.all(ids.map(async (id) => (await redis().hget(keys.runMeta(id), "prompt")) ?? ""));
}

describe("POST /api/v1/runs limits", () => {
  it("answers a prompt over MAX_PROMPT_BYTES (64 KiB) with 413 naming it, and creates no run", async () => {
    const since = Date.now();
    const marker = `limits-test-${since}`;
    // 40,000 three-byte characters: 120,000 bytes, within the 256 KiB body cap
    const response = await createRun({ prompt: marker + "€".repeat(40_000), variations: 1 });
    expect(response.status).toBe(413);
    expect(await error(response)).toEqual({
      code: "payload_too_large",
      message: `prompt: ${marker.length + 120_000} bytes, larger than the limit of 65536 bytes (MAX_PROMPT_BYTES)`,
    });
    expect((await promptsSince(since)).filter((p) => p.startsWith(marker))).toEqual([]);
  });

  it("answers too many variations or agents with 422 naming the field, and creates no run", async () => {
    const since = Date.now();
    const marker = `limits-test-${since}`;
    const cases: [unknown, string][] = [
      [{ prompt: marker, variations: 7 }, "variations: 7 variations, more than the limit of 6 (MAX_VARIATIONS)"],
      [{ prompt: marker, agents: Array(7).fill("demo") }, "agents: 7 agents (one per variation), more than the limit of 6 (MAX_VARIATIONS)"],
      [{ prompt: marker, variations: 1e9 }, "variations: 1000000000 variations, more than the limit of 6 (MAX_VARIATIONS)"],
    ];
    for (const [body, expected] of cases) {
      const response = await createRun(body);
      expect(response.status, expected).toBe(422);
      expect(await error(response)).toEqual({ code: "unprocessable", message: expected });
    }
    expect((await promptsSince(since)).filter((p) => p.startsWith(marker))).toEqual([]);
  });

  it("keeps malformed bodies at 400 and an oversized body at 413", async () => {
    expect((await createRun("{not json")).status).toBe(400);
    expect((await createRun({ prompt: "x", variations: 0 })).status).toBe(400);
    const huge = await createRun({ prompt: "x".repeat(300 * 1024) });
    expect(huge.status).toBe(413);
    expect((await error(huge)).message).toBe("body: larger than 262144 bytes");
  });
});

describe("POST /api/v1/runs/<id>/events limits", () => {
  it("answers a message over MAX_MESSAGE_BYTES with 413 naming it, and publishes nothing of the batch", async () => {
    const run = await newRun(1);
    const response = await postEvents(run.runId, { messages: [message(run.runId, 1), message(run.runId, 2, "x".repeat(5000))] }, run.agentToken);
    expect(response.status).toBe(413);
    expect(await error(response)).toMatchObject({ code: "payload_too_large", message: expect.stringMatching(/^messages\.1: 51\d\d bytes, larger than the limit of 4096 bytes \(MAX_MESSAGE_BYTES\)$/) });
    expect(await redis().xlen(keys.runEvents(run.runId))).toBe(0);
    expect(await redis().exists(keys.runSequences(run.runId))).toBe(0);
  });

  it("answers a batch over MAX_EVENTS_BATCH (500) with 422, and publishes nothing", async () => {
    const run = await newRun(1);
    const messages = Array.from({ length: 501 }, (_, i) => message(run.runId, i + 1));
    const response = await postEvents(run.runId, { messages }, run.agentToken);
    expect(response.status).toBe(422);
    expect(await error(response)).toEqual({ code: "unprocessable", message: "messages: 501 messages in one request, more than the limit of 500 (MAX_EVENTS_BATCH)" });
    expect(await redis().xlen(keys.runEvents(run.runId))).toBe(0);
    // the limit itself is accepted
    expect((await postEvents(run.runId, { messages: messages.slice(0, 500) }, run.agentToken)).status).toBe(200);
    expect(await redis().xlen(keys.runEvents(run.runId))).toBe(500);
  });

  it("caps the body at 4 MiB (at least 4 x MAX_MESSAGE_BYTES) with 413", async () => {
    const run = await newRun(1);
    const response = await postEvents(run.runId, { messages: [message(run.runId, 1, "x".repeat(4 * 1024 * 1024))] }, run.agentToken);
    expect(response.status).toBe(413);
    expect((await error(response)).message).toBe("body: larger than 4194304 bytes");
    expect(await redis().xlen(keys.runEvents(run.runId))).toBe(0);
  });
});

describe("a run id not in the format", () => {
  const post = (body: string) => ({ method: "POST", body, headers: { "Content-Type": "application/json" } });
  const routes: [string, (runId: string) => Promise<Response>][] = [
    ["GET run", (id) => getRunRoute(new Request("http://localhost/x"), params(id))],
    ["POST select (bad body)", (id) => selectRoute(new Request("http://localhost/x", post("{not json")), params(id))],
    ["POST control (bad body)", (id) => controlRoute(new Request("http://localhost/x", post(json({ action: "explode" }))), params(id))],
    ["POST events (no token, bad body)", (id) => eventsRoute(new Request("http://localhost/x", post("[]")), params(id))],
    ["POST heartbeat (no token)", (id) => heartbeatRoute(new Request("http://localhost/x", post("{}")), params(id))],
    ["GET control stream (no token)", (id) => controlStreamRoute(new Request("http://localhost/x"), params(id))],
    ["GET stream", (id) => logStreamRoute(new Request("http://localhost/x"), params(id))],
    ["GET stream/redis (bad cursor)", (id) => redisStreamRoute(new Request("http://localhost/x?lastEventId=nope"), params(id))],
  ];

  it("gets the same 400 on every route, whatever else is wrong with the request", async () => {
    for (const bad of ["run-*", "nope", "run-ABCDEFGHIJKL", "run-aaaaaaaaaaaa:x", "run-aaaaaaaaaaaaa"]) {
      for (const [name, call] of routes) {
        const response = await call(bad);
        expect(response.status, `${name} ${bad}`).toBe(400);
        expect(await error(response), `${name} ${bad}`).toEqual({
          code: "bad_request",
          message: `Invalid run id "${bad}": expected run- followed by 12 lowercase letters or digits`,
        });
      }
    }
  });
});
