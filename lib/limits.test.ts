import { describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { ApiError } from "./errors";
import { checkBatchLimits, checkCreateRunLimits, eventsBodyLimit, parseCreateRunRequest, utf8Bytes } from "./limits";

const runLimits = { MAX_PROMPT_BYTES: 100, MAX_VARIATIONS: 4 };
const batchLimits = { MAX_MESSAGE_BYTES: 1024, MAX_EVENTS_BATCH: 3 };

function refusal(check: () => unknown): { status: number; code: string; message: string } {
  try {
    check();
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("utf8Bytes", () => {
  it("counts bytes, not characters", () => {
    expect(utf8Bytes("abc")).toBe(3);
    expect(utf8Bytes("é")).toBe(2);
    expect(utf8Bytes("🦀")).toBe(4);
  });
});

describe("checkCreateRunLimits", () => {
  it("accepts what is within the limits", () => {
    expect(() => checkCreateRunLimits({ prompt: "x".repeat(100), variations: 4 }, runLimits)).not.toThrow();
    expect(() => checkCreateRunLimits({ prompt: "x", agents: ["a", "b", "c", "d"] }, runLimits)).not.toThrow();
  });

  it("answers a prompt over the limit in bytes with 413 naming the field, the size and the variable", () => {
    // 51 two-byte characters: 102 bytes, though only 51 characters
    expect(refusal(() => checkCreateRunLimits({ prompt: "é".repeat(51) }, runLimits))).toEqual({
      status: 413,
      code: "payload_too_large",
      message: "prompt: 102 bytes, larger than the limit of 100 bytes (MAX_PROMPT_BYTES)",
    });
  });

  it("measures the prompt as stored, without surrounding whitespace", () => {
    expect(() => checkCreateRunLimits({ prompt: `  ${"x".repeat(100)}\n\n` }, runLimits)).not.toThrow();
  });

  it("answers too many variations or agents with 422 naming the field and the limit", () => {
    expect(refusal(() => checkCreateRunLimits({ prompt: "x", variations: 5 }, runLimits))).toMatchObject({
      status: 422,
      message: "variations: 5 variations, more than the limit of 4 (MAX_VARIATIONS)",
    });
    expect(refusal(() => checkCreateRunLimits({ prompt: "x", agents: Array(5).fill("demo") }, runLimits))).toMatchObject({
      status: 422,
      message: expect.stringMatching(/^agents: 5 agents .*limit of 4 \(MAX_VARIATIONS\)/),
    });
  });

  it("leaves values of the wrong type to the schema (400)", () => {
    for (const body of [null, [1], "x", { prompt: 1, variations: "9" }, { variations: 9.5 }]) {
      expect(() => checkCreateRunLimits(body, runLimits)).not.toThrow();
    }
    // a ZodError: toErrorResponse makes it a 400
    expect(() => parseCreateRunRequest({ prompt: "x", variations: 9.5 }, runLimits)).toThrow(ZodError);
  });

  it("refuses a huge variations count before building one entry per variation", () => {
    expect(refusal(() => parseCreateRunRequest({ prompt: "x", variations: 1e9 }, runLimits)).status).toBe(422);
  });
});

describe("checkBatchLimits", () => {
  it("answers more messages than allowed with 422", () => {
    expect(refusal(() => checkBatchLimits([{}, {}, {}, {}], batchLimits))).toMatchObject({
      status: 422,
      message: "messages: 4 messages in one request, more than the limit of 3 (MAX_EVENTS_BATCH)",
    });
  });

  it("answers a message whose JSON is over the limit with 413 naming it", () => {
    const big = { content: "x".repeat(1024) };
    expect(refusal(() => checkBatchLimits([{}, big], batchLimits))).toMatchObject({
      status: 413,
      message: expect.stringMatching(/^messages\.1: 1038 bytes, larger than the limit of 1024 bytes \(MAX_MESSAGE_BYTES\)$/),
    });
    expect(() => checkBatchLimits([{ content: "x".repeat(1000) }], batchLimits)).not.toThrow();
  });
});

describe("eventsBodyLimit", () => {
  it("fits a few of the largest messages, never below 4 MiB", () => {
    expect(eventsBodyLimit({ MAX_MESSAGE_BYTES: 1024 })).toBe(4 * 1024 * 1024);
    expect(eventsBodyLimit({ MAX_MESSAGE_BYTES: 1024 * 1024 })).toBe(4 * 1024 * 1024);
    expect(eventsBodyLimit({ MAX_MESSAGE_BYTES: 8 * 1024 * 1024 })).toBe(32 * 1024 * 1024);
  });
});
