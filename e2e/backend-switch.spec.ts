import { expect, test } from "@playwright/test";

test("the new-run form can switch this browser to the kubectl backend, and back", async ({ page }) => {
  await page.goto("/");
  await page.getByTestId("advanced-options").locator("summary").click();
  const select = page.getByTestId("backend-select");
  await expect(select.locator("option").first()).toHaveText("Server default (Redis Streaming)");
  await select.selectOption("kubectl");

  await page.getByTestId("variations-select").selectOption("1");
  const logStream = page.waitForRequest((r) => /^\/api\/v1\/runs\/run-[0-9a-z]{12}\/stream$/.test(new URL(r.url()).pathname));
  await page.getByTestId("start-run").click();
  await expect(page).toHaveURL(/\/runs\/run-[0-9a-z]{12}$/);
  await expect(page.getByTestId("backend-badge")).toHaveText("Kubectl Streaming(this browser)");
  await logStream;
  await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await expect(page.getByTestId("variation-pane").getByTestId("status-chip")).toHaveAttribute("data-status", "completed");

  // Remembered: a reload still streams from the log backend.
  await page.reload();
  await expect(page.getByTestId("backend-badge")).toHaveAttribute("data-backend", "kubectl");

  await page.goto("/");
  await page.getByTestId("advanced-options").locator("summary").click();
  await expect(page.getByTestId("backend-select")).toHaveValue("kubectl");
  await page.getByTestId("backend-select").selectOption("server");
  await page.goBack();
  await expect(page.getByTestId("backend-badge")).toHaveText("Redis Streaming");
});
