/**
 * Fuzz: well over 10,000 generated bad inputs (bodies, ids with glob characters and control
 * bytes, headers, agent messages, huge and deeply nested JSON) at every route handler.
 * Whatever comes in: no 5xx, no throw, an error body that says what is wrong, nothing changed
 * in a run the inputs were not aimed at, and the heap back near where it started.
 *
 * Inputs come from fast-check with a seed printed on failure (FUZZ_SEED=<n> replays a run).
 */
import v8 from "node:v8";
import vm from "node:vm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POST as controlRoute } from "@/app/api/v1/runs/[runId]/control/route";
import { GET as controlStreamRoute } from "@/app/api/v1/runs/[runId]/control/stream/route";
import { POST as eventsRoute } from "@/app/api/v1/runs/[runId]/events/route";
import { POST as heartbeatRoute } from "@/app/api/v1/runs/[runId]/heartbeat/route";
import { GET as runRoute } from "@/app/api/v1/runs/[runId]/route";
import { POST as selectRoute } from "@/app/api/v1/runs/[runId]/select/route";
import { GET as redisStreamRoute } from "@/app/api/v1/runs/[runId]/stream/redis/route";
import { GET as logStreamRoute } from "@/app/api/v1/runs/[runId]/stream/route";
import { GET as listRoute, POST as createRoute } from "@/app/api/v1/runs/route";
import { POST as signInRoute } from "@/app/api/v1/session/route";
import { keys } from "@/lib/channels";
import { agentMessageSchema, createRunRequestSchema, controlRequestSchema } from "@/lib/events";
import { sendToInbox } from "@/lib/inbox";
import { ingestRunNow, stopIngest } from "@/lib/ingest";
import { publishMessage } from "@/lib/publish";
import type { NewRun } from "@/lib/runs";
import { newRun, openStream, setupTestRedis } from "../support/helpers";

const redis = setupTestRedis();

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Inputs per target; 11 targets make well over 10,000 in all. */
const RUNS_PER_TARGET = Number(process.env.FUZZ_RUNS ?? 1_000);

// ---- Generators.

/** Characters that mean something to Redis patterns, URLs, JSON, terminals or C strings. */
const NASTY = ["*", "?", "[", "]", "^", "\\", "{", "}", ":", "/", "%", "\u0000", "\u0007", "\u001b[31m", "\r\n", "\u2028", "\ud800", "..", "%00", "'", '"', " "];

const nastyString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.array(fc.constantFrom(...NASTY), { maxLength: 12 }).map((parts) => parts.join("")),
  fc.constantFrom("", "run-", "run-*", "run-????????????", "run-[a-z]*", "run:*", "*", "run-ABCDEFGHIJKL", "run-0000000000000", "run-00000000000\u0000"),
  fc.tuple(fc.constant("run-"), fc.array(fc.constantFrom("a", "0", "*", "?", "[", "]", "\u0000", "{", "}"), { minLength: 12, maxLength: 12 })).map(([p, s]) => p + s.join("")),
  fc.integer({ min: 1_000, max: 70_000 }).map((n) => "x".repeat(n)),
);

/** Bodies: random JSON, non-JSON bytes, deep nesting, huge documents. */
const body = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: nastyString },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 200_000 }).map((n) => "[".repeat(n) + "]".repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 50_000 }).map((n) => '{"a":'.repeat(n) + "1" + "}".repeat(n)) },
  { weight: 1, arbitrary: fc.integer({ min: 300_000, max: 2_000_000 }).map((n) => JSON.stringify({ prompt: "p".repeat(n), variations: 1 })) },
  { weight: 1, arbitrary: fc.constantFrom("", "null", "{}", "[]", '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}', "\u0000", "{'single':'quotes'}") },
);

/** A valid-looking object with one field broken: the inputs that get furthest in. */
function mutated(template: Record<string, unknown>) {
  const keys = Object.keys(template);
  return fc
    .tuple(fc.constantFrom(...keys, "__proto__", "extra"), fc.oneof(fc.jsonValue({ maxDepth: 2 }), nastyString, fc.constant(undefined)))
    .map(([key, value]) => JSON.stringify({ ...template, [key]: value }));
}

/** Header values a client could really send (the fetch spec forbids only NUL, CR and LF). */
const headerValue = fc.oneof(
  fc.string({ maxLength: 60 }).map((s) => s.replace(/[\u0000\r\n]/g, "").replace(/[^\u0020-\u00ff]/g, "?")),
  fc.constantFrom("Bearer", "Bearer ", "Bearer *", "Basic Zm9vOmJhcg==", "bearer rwa_run-000000000000.AAAA", "0-0", "99999999999999-99999999999999", "-1", "1-1-1", "$", "runwatch_session=v1.admin.9999999999.AAAA"),
);

/** A lone surrogate cannot be percent-encoded (URIError); a client would send U+FFFD. */
const wellFormed = (s: string) => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");

/** Anything a client may write in a URL query, including bytes that must be escaped. */
const queryValue = nastyString.map((s) => encodeURIComponent(wellFormed(s)));

// ---- Calling handlers the way Next does.

const statuses = new Map<number, number>();
let calls = 0;

function toRequest(path: string, init: { method?: string; body?: string; headers?: Record<string, string> }): Request {
  return new Request(`http://localhost${path}`, {
    method: init.method ?? "GET",
    headers: { ...(init.body !== undefined ? { "Content-Type": "application/json" } : {}), ...init.headers },
    body: init.body,
    signal: AbortSignal.timeout(10_000),
  });
}

/** Calls a handler and checks the answer: never a 5xx, never a throw, errors say what is wrong. */
async function expectHandled(what: string, call: () => Promise<Response> | Response): Promise<Response> {
  let response: Response;
  try {
    response = await call();
  } catch (error) {
    throw new Error(`${what} threw (FUZZ_SEED=${SEED}): ${(error as Error).stack}`);
  }
  calls += 1;
  statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  if (response.status >= 500) {
    throw new Error(`${what} answered ${response.status} (FUZZ_SEED=${SEED}): ${await response.text()}`);
  }
  if (response.headers.get("content-type")?.startsWith("text/event-stream")) {
    await response.body?.cancel();
  } else if (response.status >= 400) {
    const error = ((await response.json()) as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof error?.code !== "string" || typeof error.message !== "string" || !error.message) {
      throw new Error(`${what} answered ${response.status} without an error message (FUZZ_SEED=${SEED})`);
    }
  }
  return response;
}

const context = (runId: string) => ({ params: Promise.resolve({ runId }) });
// Next hands the handler the decoded segment; a lone surrogate cannot be in a URL at all.
const runPath = (runId: string, rest = "") => `/api/v1/runs/${encodeURIComponent(wellFormed(runId))}${rest}`;

async function fuzz<T>(arbitrary: fc.Arbitrary<T>, check: (input: T) => Promise<unknown>, numRuns = RUNS_PER_TARGET): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arbitrary, async (input) => {
      await check(input);
    }),
    { seed: SEED, numRuns, endOnFailure: true },
  );
}

// ---- What must not change.

async function snapshot(runId: string) {
  const r = redis();
  return {
    meta: await r.hgetall(keys.runMeta(runId)),
    variations: await r.hgetall(keys.runVariations(runId)),
    sequences: await r.hgetall(keys.runSequences(runId)),
    events: await r.xrange(keys.runEvents(runId), "-", "+"),
    control: await r.xrange(keys.runControl(runId), "-", "+"),
  };
}

const gc = (() => {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
})();

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe("fuzz", () => {
  let bystander: NewRun;
  let target: NewRun;
  let before: Awaited<ReturnType<typeof snapshot>>;
  let heapBefore = 0;
  /** Messages of the target run's accepted batches that Redis kept (not duplicates). */
  let acceptedForTarget = 0;

  beforeAll(async () => {
    bystander = await newRun(2);
    target = await newRun(2);
    for (const [i, variation] of bystander.variationIds.entries()) {
      await publishMessage(redis(), {
        type: "output",
        content: `bystander output ${i}`,
        run_id: bystander.runId,
        variation_id: variation,
        sequence: 1,
        timestamp: new Date().toISOString(),
        metadata: {},
      });
    }
    before = await snapshot(bystander.runId);
    // One warm-up round so lazily built things (clients, caches, compiled schemas) are counted before.
    await expectHandled("warm-up", () => listRoute(toRequest("/api/v1/runs", {})));
    heapBefore = heapAfterGc();
  });

  afterAll(() => {
    console.info(`fuzz: ${calls} inputs, seed ${SEED}, answers ${JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b)))}`);
  });

  it("POST /api/v1/runs: bad bodies and broken fields", { timeout: 120_000 }, async () => {
    const template = { prompt: "fuzz", variations: 2, agent: "demo" };
    await fuzz(fc.oneof(body, mutated(template)), async (text) => {
      // A body that happens to be valid would start real agents: not what this test is about.
      const parsed = (() => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return undefined;
        }
      })();
      if (createRunRequestSchema.safeParse(parsed).success) return;
      const response = await expectHandled("POST /runs", () => createRoute(toRequest("/api/v1/runs", { method: "POST", body: text })));
      expect([400, 413, 422]).toContain(response.status);
    });
  });

  it("GET a run and its streams: ids with glob characters, control bytes, huge ids; odd Last-Event-IDs", { timeout: 120_000 }, async () => {
    await fuzz(fc.tuple(nastyString, headerValue), async ([runId, lastEventId]) => {
      await expectHandled("GET run", () => runRoute(toRequest(runPath(runId), {}), context(runId)));
      await expectHandled("GET stream/redis", () => redisStreamRoute(toRequest(runPath(runId, "/stream/redis"), { headers: { "Last-Event-ID": lastEventId } }), context(runId)));
      await expectHandled("GET stream", () => logStreamRoute(toRequest(runPath(runId, "/stream"), {}), context(runId)));
    });
    // A real run's stream with a garbage cursor: a clear 400, never a stream from a wrong place.
    await fuzz(headerValue, async (lastEventId) => {
      await expectHandled("GET stream/redis with a cursor", () =>
        redisStreamRoute(toRequest(runPath(target.runId, "/stream/redis"), { headers: { "Last-Event-ID": lastEventId } }), context(target.runId)),
      );
    });
  });

  it("POST control and select: bad bodies at real and made-up runs", { timeout: 120_000 }, async () => {
    const control = fc.oneof(body, mutated({ action: "pause", variation_id: "var-1" }));
    await fuzz(fc.tuple(fc.oneof(nastyString, fc.constant(target.runId)), control), async ([runId, text]) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      // A valid control message on the target would be obeyed; that is not a bad input.
      if (runId === target.runId && controlRequestSchema.safeParse(parsed).success) return;
      await expectHandled("POST control", () => controlRoute(toRequest(runPath(runId, "/control"), { method: "POST", body: text }), context(runId)));
    });
    await fuzz(fc.tuple(fc.oneof(nastyString, fc.constant(target.runId)), fc.oneof(body, mutated({ winning_variation_id: "var-1" }))), async ([runId, text]) => {
      await expectHandled("POST select", () => selectRoute(toRequest(runPath(runId, "/select"), { method: "POST", body: text }), context(runId)));
    });
  });

  it("agent routes: bad messages with the right token, any message with bad tokens", { timeout: 120_000 }, async () => {
    const auth = { Authorization: `Bearer ${target.agentToken}` };
    const message = {
      type: "log",
      content: "fuzz",
      run_id: target.runId,
      variation_id: "var-1",
      sequence: 1_000_000,
      timestamp: new Date().toISOString(),
      metadata: { level: "info" },
    };
    const batch = fc.oneof(
      body,
      mutated({ messages: [message] }),
      fc.array(mutated(message).map((m) => JSON.parse(m) as unknown), { maxLength: 5 }).map((messages) => JSON.stringify({ messages })),
    );
    await fuzz(batch, async (text) => {
      const response = await expectHandled("POST events", () => eventsRoute(toRequest(runPath(target.runId, "/events"), { method: "POST", body: text, headers: auth }), context(target.runId)));
      // A mutation can leave a batch valid (a changed content, an extra key zod drops): it is published.
      if (response.status === 200) {
        const { published } = (await response.clone().json()) as { published: { id: string | null }[] };
        acceptedForTarget += published.filter((p) => p.id !== null).length;
      }
    });
    await fuzz(fc.tuple(nastyString, headerValue, body), async ([runId, authorization, text]) => {
      const headers = { Authorization: authorization };
      await expectHandled("POST events, bad token", () => eventsRoute(toRequest(runPath(runId, "/events"), { method: "POST", body: text, headers }), context(runId)));
      await expectHandled("POST heartbeat, bad token", () => heartbeatRoute(toRequest(runPath(runId, "/heartbeat"), { method: "POST", body: text, headers }), context(runId)));
    });
    await fuzz(fc.tuple(body, queryValue), async ([text, variation]) => {
      await expectHandled("POST heartbeat", () => heartbeatRoute(toRequest(runPath(target.runId, "/heartbeat"), { method: "POST", body: text, headers: auth }), context(target.runId)));
      await expectHandled("GET control/stream", () =>
        controlStreamRoute(toRequest(runPath(target.runId, `/control/stream?variation_id=${variation}&lastEventId=${variation}`), { headers: auth }), context(target.runId)),
      );
    });
  });

  it("sign-in and headers: bad tokens, cookies and bodies", { timeout: 60_000 }, async () => {
    await fuzz(fc.tuple(body, headerValue), async ([text, cookie]) => {
      await expectHandled("POST session", () => signInRoute(toRequest("/api/v1/session", { method: "POST", body: text, headers: { Cookie: cookie } })));
      await expectHandled("GET runs with odd headers", () => listRoute(toRequest("/api/v1/runs", { headers: { Cookie: cookie, Authorization: cookie, "Last-Event-ID": cookie } })));
    });
  });

  it("the publish path: generated inbox entries from an agent on Redis are checked, dead-lettered, and never stop it", { timeout: 120_000 }, async () => {
    const run = await newRun(2);
    const valid = { type: "output", content: "fuzz", run_id: run.runId, variation_id: "var-1", sequence: 1, timestamp: new Date().toISOString(), metadata: {} };
    const entry = fc.oneof(
      // A message: m is anything, v and s are anything or right.
      fc
        .tuple(fc.oneof(body, mutated(valid)), fc.oneof(nastyString, fc.constantFrom("var-1", "var-2")), fc.oneof(nastyString, fc.integer({ min: -5, max: 2 ** 60 }).map(String)))
        .map(([m, v, sq]) => ["v", v, "s", sq, "m", m]),
      // A heartbeat for any variation, maybe a goodbye.
      fc.tuple(nastyString, fc.constantFrom("0", "1", "x")).map(([v, gone]) => ["beat", v, "gone", gone]),
      // Fields that mean nothing.
      fc.array(nastyString, { minLength: 1, maxLength: 6 }).map((fields) => (fields.length % 2 ? [...fields, ""] : fields)),
    );
    const entries = fc.sample(entry, { seed: SEED, numRuns: RUNS_PER_TARGET * 2 });
    const notJson = entries.filter((fields) => {
      const m = fields[fields.indexOf("m") + 1];
      if (fields[0] !== "v" || m === undefined) return false;
      try {
        JSON.parse(m);
        return false;
      } catch {
        return true;
      }
    }).length;
    for (let i = 0; i < entries.length; i += 200) {
      const pipeline = redis().pipeline();
      for (const fields of entries.slice(i, i + 200)) pipeline.xadd(keys.runInbox(run.runId), "*", ...fields.map((f) => f.replace(/[\ud800-\udfff]/g, "?")));
      await pipeline.exec();
      await ingestRunNow(run.runId);
      calls += Math.min(200, entries.length - i);
    }
    // Whatever reached the run's history is a valid message of this run (the agent's, or the
    // warning the server writes in place of a bad one); the rest is in the dead-letter stream.
    const history = await redis().xrange(keys.runEvents(run.runId), "-", "+");
    for (const [, fields] of history) {
      const message = agentMessageSchema.parse(JSON.parse(fields[1]!));
      expect(message.run_id).toBe(run.runId);
      expect(run.variationIds).toContain(message.variation_id);
    }
    expect(await redis().xlen(keys.runDeadLetters(run.runId))).toBeGreaterThanOrEqual(notJson);
    expect(await redis().xlen(keys.runInbox(run.runId))).toBe(0);

    // And the agent's next good message still goes through.
    const sequences = await redis().hgetall(keys.runSequences(run.runId));
    const next = Number(sequences["var-2"] ?? 0) + 1;
    await sendToInbox(redis(), run.runId)([{ ...valid, variation_id: "var-2", sequence: next, content: "after the fuzz" } as never]);
    await ingestRunNow(run.runId);
    const last = (await redis().xrevrange(keys.runEvents(run.runId), "+", "-", "COUNT", 1))[0]!;
    expect(JSON.parse(last[1][1]!)).toMatchObject({ variation_id: "var-2", sequence: next, content: "after the fuzz" });
    await stopIngest();
  });

  it("a message nested 5,000 deep or a heartbeat with a made-up entry id stops neither path (found in review)", async () => {
    const run = await newRun(1);
    // JSON.parse and zod accept it; JSON.stringify cannot write it back.
    const deep = (sequence: number) =>
      `{"type":"log","content":"deep","run_id":"${run.runId}","variation_id":"var-1","sequence":${sequence},"timestamp":"${new Date().toISOString()}","metadata":{"level":"info","x":${'{"a":'.repeat(5_000)}{}${"}".repeat(5_000)}}}`;
    const raw = deep(1);
    await redis().xadd(keys.runInbox(run.runId), "*", "v", "var-1", "s", "1", "m", raw);
    await redis().xadd(keys.runInbox(run.runId), "9000000000000000-0", "beat", "var-1");
    await ingestRunNow(run.runId);
    expect(await redis().xlen(keys.runInbox(run.runId))).toBe(0);
    expect(await redis().xlen(keys.runDeadLetters(run.runId))).toBeGreaterThanOrEqual(1);

    // Over HTTP: a clear 422, not a 500.
    const response = await expectHandled("POST events, deep", () =>
      eventsRoute(toRequest(runPath(run.runId, "/events"), { method: "POST", body: `{"messages":[${deep(2)}]}`, headers: { Authorization: `Bearer ${run.agentToken}` } }), context(run.runId)),
    );
    expect([400, 422]).toContain(response.status);

    // The agent's next message still goes through.
    await sendToInbox(redis(), run.runId)([{ type: "output", content: "still here", run_id: run.runId, variation_id: "var-1", sequence: 2, timestamp: new Date().toISOString(), metadata: {} }]);
    await ingestRunNow(run.runId);
    const last = (await redis().xrevrange(keys.runEvents(run.runId), "+", "-", "COUNT", 1))[0]!;
    expect(JSON.parse(last[1][1]!)).toMatchObject({ content: "still here", sequence: 2 });
    await stopIngest();
  });

  it("left every other run as it was, still streams, and the heap came back down", async () => {
    // 10,000 and more at the default FUZZ_RUNS=1000.
    expect(calls).toBeGreaterThanOrEqual(RUNS_PER_TARGET * 10);
    expect(await snapshot(bystander.runId)).toEqual(before);
    // The target kept exactly what the events route said it published, nothing of the refused batches.
    expect(await redis().xlen(keys.runEvents(target.runId))).toBe(acceptedForTarget);

    const { response, reader } = await openStream(bystander.runId);
    expect(response.status).toBe(200);
    const events = await reader!.waitForEvents(2, (e) => e.event === "agent_output");
    expect(events.map((e) => (JSON.parse(e.data) as { content: string }).content).sort()).toEqual(["bystander output 0", "bystander output 1"]);
    reader!.abort();

    const growth = heapAfterGc() - heapBefore;
    console.info(`fuzz: heap ${Math.round(heapBefore / 2 ** 20)} MiB before, ${growth >= 0 ? "+" : ""}${(growth / 2 ** 20).toFixed(1)} MiB after`);
    // Generous against noise; a leak per input (10,000+ of them, many of a megabyte) would be far over.
    expect(growth).toBeLessThan(48 * 2 ** 20);
  });
});
