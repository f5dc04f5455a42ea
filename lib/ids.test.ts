import { describe, expect, it } from "vitest";
import { isRunId, newRunId, variationIds } from "./ids";

describe("run ids", () => {
  it("issues ids of the documented form, different each time", () => {
    const ids = new Set(Array.from({ length: 200 }, newRunId));
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^run-[0-9a-z]{12}$/);
  });

  it("rejects glob characters, separators and other shapes", () => {
    for (const bad of ["run-*", "run-0123456789a?", "run-[0123456789]", "run-0123:56789ab", "RUN-0123456789AB", "run-0123456789abc", "", "run-0123456789a\n"]) {
      expect(isRunId(bad), bad).toBe(false);
    }
    expect(isRunId("run-0123456789ab")).toBe(true);
  });

  it("names variations var-1..var-n", () => {
    expect(variationIds(3)).toEqual(["var-1", "var-2", "var-3"]);
  });
});
