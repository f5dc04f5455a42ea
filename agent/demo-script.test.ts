import { describe, expect, it } from "vitest";
import { demoMarkdown, demoScript, tokenize } from "./demo-script";

describe("demo script", () => {
  it("is deterministic for a given prompt and seed", () => {
    expect(demoScript("Fix the bug", 42)).toEqual(demoScript("Fix the bug", 42));
  });

  it("differs between seeds (variations)", () => {
    expect(demoMarkdown("Fix the bug", 1)).not.toEqual(demoMarkdown("Fix the bug", 2));
  });

  it("streams the whole markdown in token-sized chunks", () => {
    const markdown = demoMarkdown("Fix the bug", 7);
    const tokens = tokenize(markdown);
    expect(tokens.join("")).toBe(markdown);
    expect(tokens.length).toBeGreaterThan(150);
    expect(Math.max(...tokens.map((t) => t.trim().length))).toBeLessThanOrEqual(8);
  });

  it("paces a variation at 10-30 s at speed 1", () => {
    for (const seed of [1, 2, 3, 99]) {
      const totalMs = demoScript("Fix the bug", seed).reduce(
        (sum, step) => sum + (step.kind === "output" ? step.delayMs : step.kind === "pause" ? step.ms : 0),
        0,
      );
      expect(totalMs).toBeGreaterThan(10_000);
      expect(totalMs).toBeLessThan(30_000);
    }
  });

  it("renders markdown with headings, a list, a code fence and a table", () => {
    const markdown = demoMarkdown("Fix the bug", 3);
    expect(markdown).toMatch(/^## /m);
    expect(markdown).toMatch(/^1\. /m);
    expect(markdown).toContain("```ts");
    expect(markdown).toMatch(/^\| --- \|/m);
  });
});
