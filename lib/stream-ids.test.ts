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
    expect(compareStreamIds("18446744073709551615-18446744073709551615", "18446744073709551615-18446744073709551614")).toBe(1);
    expect(compareStreamIds("1-0", "0-999")).toBe(1);
    expect(compareStreamIds("0-0", "0-1")).toBe(-1);
  });

  it("reads leading zeros as numbers do", () => {
    expect(compareStreamIds("0009-1", "9-1")).toBe(0);
    expect(compareStreamIds("9-0010", "9-9")).toBe(1);
    expect(compareStreamIds("0010-0", "9-0")).toBe(1);
    expect(compareStreamIds("000-000", "0-0")).toBe(0);
  });

  it("agrees with BigInt arithmetic on random ids", () => {
    const big = (id: string) => id.split("-").map((part) => BigInt(part));
    const random = () => `${"0".repeat(Math.floor(Math.random() * 2))}${Math.floor(Math.random() * 1_000)}-${Math.floor(Math.random() * 20)}`;
    for (let i = 0; i < 2_000; i++) {
      const a = random();
      const b = random();
      const [aMs, aSeq] = big(a);
      const [bMs, bSeq] = big(b);
      const expected = aMs! !== bMs! ? (aMs! < bMs! ? -1 : 1) : aSeq! === bSeq! ? 0 : aSeq! < bSeq! ? -1 : 1;
      expect(compareStreamIds(a, b), `${a} vs ${b}`).toBe(expected);
    }
  });
});
