import { describe, expect, it } from "vitest";
import { compareStreamIds, isStreamId } from "./stream-ids";

describe("stream ids", () => {
  it("accepts only <ms>-<seq>", () => {
    expect(isStreamId("1732350000000-0")).toBe(true);
    for (const bad of ["", "0", "1-", "-1", "1-2-3", "a-1", "1732350000000-0\n", "$", "+"]) expect(isStreamId(bad)).toBe(false);
  });

  it("compares numerically, not as strings", () => {
    expect(compareStreamIds("10-0", "9-0")).toBe(1);
    expect(compareStreamIds("9-10", "9-9")).toBe(1);
    expect(compareStreamIds("5-3", "5-3")).toBe(0);
    expect(compareStreamIds("1732350000000-0", "1732350000001-0")).toBe(-1);
    expect(compareStreamIds("18446744073709551615-0", "18446744073709551614-99")).toBe(1);
  });
});
