import { describe, expect, it } from "vitest";
import { compareOutputs } from "./compare";

describe("compareOutputs", () => {
  it("keeps what both share on both sides and marks what only one side has", () => {
    const { left, right, similarity } = compareOutputs("Use a cache with TTL", "Use a queue with TTL");
    expect(left.map((p) => p.text).join("")).toBe("Use a cache with TTL");
    expect(right.map((p) => p.text).join("")).toBe("Use a queue with TTL");
    expect(left.filter((p) => p.changed).map((p) => p.text)).toEqual(["cache"]);
    expect(right.filter((p) => p.changed).map((p) => p.text)).toEqual(["queue"]);
    expect(similarity).toBeCloseTo(4 / 5);
  });

  it("rebuilds each side exactly, blank lines and indentation included", () => {
    const a = "# Title\n\nUse a cache.\n\n- one\n- two\n";
    const b = "# Title\n\nUse a queue.\n- one\n  - two\n";
    const { left, right } = compareOutputs(a, b);
    expect(left.map((p) => p.text).join("")).toBe(a);
    expect(right.map((p) => p.text).join("")).toBe(b);
  });

  it("gives up past its time budget and shows both outputs unmarked rather than freezing the page", () => {
    const words = (n: number, step: number) => Array.from({ length: n }, (_, i) => `w${(i * step) % 997}`).join(" ");
    const [a, b] = [words(3_000, 7), words(3_000, 13)];
    const started = performance.now();
    const result = compareOutputs(a, b, 50);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(result).toEqual({ left: [{ text: a, changed: false }], right: [{ text: b, changed: false }], similarity: null });
  });

  it("says identical outputs are identical, and handles empty ones", () => {
    expect(compareOutputs("same text", "same text")).toEqual({ left: [{ text: "same text", changed: false }], right: [{ text: "same text", changed: false }], similarity: 1 });
    expect(compareOutputs("", "").similarity).toBe(1);
    expect(compareOutputs("", "new").right).toEqual([{ text: "new", changed: true }]);
  });
});
