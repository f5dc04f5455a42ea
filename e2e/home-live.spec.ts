import { expect, test, type Request } from "@playwright/test";

/**
 * The home page's runs list follows the runs feed (GET /api/v1/stream): a run created elsewhere
 * appears and completes on a page that is neither reloaded nor polling.
 */
test("a run created through the API appears in the list and completes live, without reload or polling", async ({ page, request }) => {
  const feedOpened = page.waitForResponse((r) => new URL(r.url()).pathname === "/api/v1/stream" && r.status() === 200);
  await page.goto("/");
  // The feed answers only once it is subscribed, so from here on no change can be missed.
  await feedOpened;
  await expect(page.getByTestId("runs-list").or(page.getByTestId("runs-empty"))).toBeVisible();
  // Gone if the page reloads or navigates.
  await page.evaluate(() => Object.assign(window, { runwatchSamePage: true }));
  const listRequests: Request[] = [];
  page.on("request", (r) => {
    if (r.method() === "GET" && new URL(r.url()).pathname === "/api/v1/runs") listRequests.push(r);
  });

  const created = await request.post("/api/v1/runs", { data: { prompt: "Appears on the home page live", variations: 2 } });
  expect(created.status()).toBe(202);
  const { run_id: runId } = (await created.json()) as { run_id: string };

  const row = page.getByTestId("runs-list").locator(`a[href="/runs/${runId}"]`);
  await expect(row).toBeVisible();
  await expect(row).toContainText("Appears on the home page live");
  // Seen running first, then completed: the status changes on the page, not just on arrival.
  await expect(row.getByTestId("run-list-status")).toHaveAttribute("data-status", "running");
  await expect(row.getByTestId("run-list-status")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expect(row.getByTestId("run-list-status")).toHaveText("completed");

  expect(await page.evaluate(() => (window as Window & { runwatchSamePage?: boolean }).runwatchSamePage)).toBe(true);
  // Nothing changes now, so nothing is fetched: the list is not polling.
  const settled = listRequests.length;
  await page.waitForTimeout(4_000);
  expect(listRequests.length).toBe(settled);
});
