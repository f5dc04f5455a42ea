import { expect, test } from "@playwright/test";

test("a malformed run id shows not found, an unknown run says so", async ({ page }) => {
  const bad = await page.goto("/runs/run-*");
  expect(bad?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();

  await page.goto("/runs/run-000000000000");
  await expect(page.getByTestId("run-error")).toContainText("was not found");
});

test("the API answers bad input with clear messages", async ({ request }) => {
  const badBody = await request.post("/api/v1/runs", { data: { prompt: "x", variations: 9 } });
  // Well-formed but over the limit of 6 (MAX_VARIATIONS): 422; a malformed body stays 400.
  expect(badBody.status()).toBe(422);
  expect((await badBody.json()).error.message).toMatch(/variations: 9 variations, more than the limit of 6/);

  const malformed = await request.post("/api/v1/runs", { data: { prompt: "x", variations: "three" } });
  expect(malformed.status()).toBe(400);

  const badId = await request.get("/api/v1/runs/run-%2A/stream/redis");
  expect(badId.status()).toBe(400);

  const health = await request.get("/api/health");
  expect(await health.json()).toEqual({ ok: true, redis: "up", circuit: "closed" });
});
