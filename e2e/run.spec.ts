import { expect, test } from "@playwright/test";

test("a run with 3 demo variations streams into three panes and completes", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("prompt-input").fill("Compare three ways to cache HTTP responses");
  await page.getByTestId("variations-select").selectOption("3");
  await page.getByTestId("agent-select").selectOption("demo");
  await page.getByTestId("start-run").click();

  await expect(page).toHaveURL(/\/runs\/run-[0-9a-z]{12}$/);
  await expect(page.getByTestId("backend-badge")).toHaveText("Redis Streaming");
  await expect(page.getByTestId("run-prompt")).toHaveText("Compare three ways to cache HTTP responses");

  const panes = page.getByTestId("variation-pane");
  await expect(panes).toHaveCount(3);
  await expect(page.getByTestId("connection-indicator")).toHaveAttribute("data-state", "live");

  // Output arrives while the run is still going: streaming, not a page that fills at the end.
  // The first pane's count is read the moment its first heading shows, long before its end.
  await expect(panes.first().getByTestId("variation-output").locator("h2")).toBeVisible();
  const charsWhileStreaming = Number((await panes.first().getByTestId("char-count").textContent())?.replace(/\D/g, ""));
  for (let i = 1; i < 3; i++) {
    await expect(panes.nth(i).getByTestId("variation-output").locator("h2")).toBeVisible();
  }

  await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expect(page.getByTestId("run-status")).toHaveText("Run complete");
  for (let i = 0; i < 3; i++) {
    const pane = panes.nth(i);
    await expect(pane.getByTestId("status-chip")).toHaveAttribute("data-status", "completed");
    await expect(pane.getByTestId("variation-output").locator("pre code")).toBeVisible();
    await expect(pane.getByTestId("variation-output").locator("table")).toBeVisible();
    await expect(pane.getByTestId("token-count")).toHaveText(/^\d+ tokens$/);
    await expect(pane.getByTestId("log-line").first()).toBeVisible();
  }
  await expect(page.getByTestId("connection-indicator")).toHaveAttribute("data-state", "closed");
  const charsAtEnd = Number((await panes.first().getByTestId("char-count").textContent())?.replace(/\D/g, ""));
  expect(charsAtEnd).toBeGreaterThan(charsWhileStreaming);

  // The home page lists the run as completed.
  const runUrl = page.url();
  await page.goto("/");
  const row = page.getByTestId("runs-list").locator(`a[href="${new URL(runUrl).pathname}"]`);
  await expect(row).toContainText("completed");
});

test("a malformed run id shows not found, an unknown run says so", async ({ page }) => {
  const bad = await page.goto("/runs/run-*");
  expect(bad?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Not found" })).toBeVisible();

  await page.goto("/runs/run-000000000000");
  await expect(page.getByTestId("run-error")).toContainText("was not found");
});

test("the API answers bad input with clear messages", async ({ request }) => {
  const badBody = await request.post("/api/v1/runs", { data: { prompt: "x", variations: 9 } });
  expect(badBody.status()).toBe(400);
  expect((await badBody.json()).error.message).toMatch(/variations/);

  const badId = await request.get("/api/v1/runs/run-%2A/stream/redis");
  expect(badId.status()).toBe(400);

  const health = await request.get("/api/health");
  expect(await health.json()).toEqual({ ok: true, redis: "up" });
});
