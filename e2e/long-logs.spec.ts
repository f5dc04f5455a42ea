import Redis from "ioredis";
import { expect, test } from "@playwright/test";
import { publishMessage } from "../lib/publish";
import { AppServer } from "./support/app-server";
import { longTasks, openWatchedRun } from "./support/long-tasks";

/**
 * 100,000 log lines into one variation while the page watches: the page keeps up (every line
 * counted, the newest shown), stays scrollable, and the longest main-thread task while
 * streaming is measured (PerformanceObserver "longtask") and attached to the report.
 */
test("100,000 log lines stream into one pane; the page keeps up and stays responsive", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const server = await AppServer.create({});
  const redis = new Redis(server.redisUrl);
  try {
    await server.start();
    const runId = "run-l0ngl0gs0000";
    await openWatchedRun(page, redis, server.url, runId, "long logs");

    const TOTAL = 100_000;
    const started = Date.now();
    for (let sequence = 1; sequence <= TOTAL; sequence += 1_000) {
      // 1,000 at a time, in order on one connection: about 10,000 lines a second.
      await Promise.all(
        Array.from({ length: 1_000 }, (_, i) =>
          publishMessage(redis, { type: "log", content: `step ${sequence + i}: \u001b[32mok\u001b[0m`, run_id: runId, variation_id: "var-1", sequence: sequence + i, timestamp: new Date().toISOString(), metadata: { level: "info" } }),
        ),
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    const publishSeconds = (Date.now() - started) / 1000;
    const last = page.locator('[data-testid="log-line"][data-line="100000"]');
    await expect(last).toBeVisible({ timeout: 60_000 });
    await expect(last).toContainText("step 100000: ok");

    // Scrolling still works: up to the top of what is shown, and Jump to latest back down.
    const list = page.getByTestId("log-list");
    await list.evaluate((el) => el.scrollTo({ top: 0 }));
    await expect(page.getByTestId("jump-to-latest").last()).toBeVisible();
    await page.getByTestId("jump-to-latest").last().click();
    await expect(last).toBeInViewport();

    const tasks = await longTasks(page);
    const figures = { lines: TOTAL, publish_seconds: publishSeconds, long_tasks: tasks.length, longest_task_ms: Math.round(Math.max(0, ...tasks)) };
    await testInfo.attach("long-tasks.json", { body: JSON.stringify(figures, null, 2), contentType: "application/json" });
    console.log(`[long-logs] ${JSON.stringify(figures)}`);
  } finally {
    await redis.quit();
    await server.dispose();
  }
});
