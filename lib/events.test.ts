import { describe, expect, it } from "vitest";
import { agentMessageSchema, createRunRequestSchema } from "./events";

const base = {
  timestamp: "2026-11-23T10:30:00.000Z",
  run_id: "run-0123456789ab",
  variation_id: "var-1",
  sequence: 1,
};

describe("agent message schema", () => {
  it("accepts each message type of the protocol", () => {
    const good = [
      { ...base, type: "output", content: "# Hello", metadata: {} },
      { ...base, type: "log", content: "starting", metadata: { level: "warn" } },
      { ...base, type: "status", content: "failed", metadata: { error: "boom", exit_code: 2 } },
      { ...base, type: "metric", content: { tokens: 12, characters: 40 } },
    ];
    for (const message of good) expect(agentMessageSchema.safeParse(message).success, message.type).toBe(true);
  });

  it("fills in empty metadata when an agent leaves it out", () => {
    const parsed = agentMessageSchema.parse({ ...base, type: "output", content: "x" });
    expect(parsed.metadata).toEqual({});
  });

  it("accepts timestamps with an offset", () => {
    expect(agentMessageSchema.safeParse({ ...base, timestamp: "2026-11-23T10:30:00+02:00", type: "output", content: "x" }).success).toBe(true);
  });

  it("rejects messages that break the contract", () => {
    const bad: Record<string, unknown>[] = [
      { ...base, type: "output", content: 42 },
      { ...base, type: "shout", content: "x" },
      { ...base, type: "status", content: "exploded" },
      { ...base, type: "metric", content: { tokens: "many" } },
      { ...base, type: "log", content: "x", metadata: { level: "loud" } },
      { ...base, sequence: 0, type: "output", content: "x" },
      { ...base, sequence: 1.5, type: "output", content: "x" },
      { ...base, run_id: "run-*", type: "output", content: "x" },
      { ...base, variation_id: "var:1", type: "output", content: "x" },
      { ...base, timestamp: "yesterday", type: "output", content: "x" },
      { type: "output", content: "x" },
    ];
    for (const message of bad) expect(agentMessageSchema.safeParse(message).success, JSON.stringify(message)).toBe(false);
  });
});

describe("create run request", () => {
  it("defaults to 3 demo variations", () => {
    expect(createRunRequestSchema.parse({ prompt: "hi" })).toEqual({ prompt: "hi", agents: ["demo", "demo", "demo"] });
  });

  it("gives every variation the one agent, or each its own", () => {
    expect(createRunRequestSchema.parse({ prompt: "hi", variations: 2, agent: "echo" }).agents).toEqual(["echo", "echo"]);
    expect(createRunRequestSchema.parse({ prompt: "hi", agents: ["demo", "echo"] }).agents).toEqual(["demo", "echo"]);
    expect(createRunRequestSchema.parse({ prompt: "hi", variations: 2, agents: ["demo", "echo"] }).agents).toEqual(["demo", "echo"]);
  });

  it("names the field that is wrong", () => {
    // variations 0, not 7: the schema checks shape; the limit (MAX_VARIATIONS) is lib/limits.ts's
    const result = createRunRequestSchema.safeParse({ prompt: "  ", variations: 0, agent: "GPT 9" });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["prompt", "variations", "agent"]));
  });

  it("refuses agent and agents together, and a count that contradicts agents", () => {
    const both = createRunRequestSchema.safeParse({ prompt: "hi", agent: "demo", agents: ["demo"] });
    expect(both.error?.issues.map((i) => i.path.join("."))).toEqual(["agents"]);
    const count = createRunRequestSchema.safeParse({ prompt: "hi", variations: 3, agents: ["demo"] });
    expect(count.error?.issues.map((i) => i.path.join("."))).toEqual(["variations"]);
  });
});
