import { expect, test } from "@playwright/test";

/**
 * The main user journey, run once per backend (playwright.config.ts has a server for each):
 * the page must look and behave the same whichever backend streams it.
 */
test("a run with 3 demo variations streams into three panes and completes", async ({ page }) => {
  const { label, backend } = test.info().project.metadata as { label: string; backend: "redis" | "kubectl" };
  // The page must really stream from that backend's route, not just say so.
  const streamPath = backend === "redis" ? /^\/api\/v1\/runs\/run-[0-9a-z]{12}\/stream\/redis$/ : /^\/api\/v1\/runs\/run-[0-9a-z]{12}\/stream$/;
  const streamRequest = page.waitForRequest((r) => streamPath.test(new URL(r.url()).pathname));
  await page.goto("/");
  await page.getByTestId("prompt-input").fill("Compare three ways to cache HTTP responses");
  await page.getByTestId("variations-select").selectOption("3");
  await page.getByTestId("agent-select").selectOption("demo");
  await page.getByTestId("start-run").click();

  await expect(page).toHaveURL(/\/runs\/run-[0-9a-z]{12}$/);
  await expect(page.getByTestId("backend-badge")).toHaveText(label);
  await streamRequest;
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
    // The ```ts fence is highlighted (rehype-highlight): keywords get their own colour.
    await expect(pane.getByTestId("variation-output").locator("pre code.language-ts .hljs-keyword").first()).toBeVisible();
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
