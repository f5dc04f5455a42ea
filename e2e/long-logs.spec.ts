import Redis from "ioredis";
import { expect, test } from "@playwright/test";
import { publishMessage } from "../lib/publish";
import { AppServer } from "./support/app-server";
import { longest, openWatchedRun, takeLongTasks } from "./support/long-tasks";

const RUN_ID = "run-l0ngl0gs0000";
const line = (sequence: number) => ({ type: "log" as const, content: `step ${sequence}: \u001b[32mok\u001b[0m`, run_id: RUN_ID, variation_id: "var-1", sequence, timestamp: new Date().toISOString(), metadata: { level: "info" as const } });

/**
 * 100,000 log lines in one variation while the page watches, then more at 1,000 a second (the
 * issue's rate) while someone scrolls: the page keeps up (every line counted, the newest shown),
 * stays scrollable, and the main thread's long tasks (PerformanceObserver "longtask") of each
 * phase are measured and attached to the report. A figure, not an assertion: the machines are
 * shared and noisy (README, "Tests").
 */
test("100,000 log lines, then 1,000 a second while scrolling: the page keeps up and stays responsive", async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const server = await AppServer.create({});
  const redis = new Redis(server.redisUrl);
  try {
    await server.start();
    await openWatchedRun(page, redis, server.url, RUN_ID, "long logs");

    // Phase 1: 100,000 lines as fast as one connection publishes them (about 10,000 a second).
    const LOADED = 100_000;
    const started = Date.now();
    for (let sequence = 1; sequence <= LOADED; sequence += 1_000) {
      await Promise.all(Array.from({ length: 1_000 }, (_, i) => publishMessage(redis, line(sequence + i))));
      await new Promise((r) => setTimeout(r, 50));
    }
    const loadSeconds = (Date.now() - started) / 1000;
    const loadedLast = page.locator(`[data-testid="log-line"][data-line="${LOADED}"]`);
    await expect(loadedLast).toBeVisible({ timeout: 60_000 });
    await expect(loadedLast).toContainText(`step ${LOADED}: ok`);
    const loading = await takeLongTasks(page);

    // Phase 2: 1,000 lines a second for 10 s, in 20 ms ticks, while the reader scrolls up with
    // the wheel (following stops), reads, scrolls on, and jumps back to the latest.
    const STREAMED = 10_000;
    const TOTAL = LOADED + STREAMED;
    const list = page.getByTestId("log-list");
    const publishing = (async () => {
      const t0 = Date.now();
      for (let sent = 0; sent < STREAMED; ) {
        const due = Math.min(STREAMED, Math.floor(((Date.now() - t0) / 1000) * 1_000));
        const batch: Promise<unknown>[] = [];
        for (; sent < due; sent++) batch.push(publishMessage(redis, line(LOADED + sent + 1)));
        await Promise.all(batch);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await page.waitForTimeout(2_000);
    await list.hover();
    for (let i = 0; i < 10; i++) {
      await page.mouse.wheel(0, -400);
      await page.waitForTimeout(100);
    }
    await expect(page.getByTestId("jump-to-latest").last()).toBeVisible();
    await page.waitForTimeout(1_000);
    for (let i = 0; i < 5; i++) {
      await page.mouse.wheel(0, 200);
      await page.waitForTimeout(100);
    }
    await page.getByTestId("jump-to-latest").last().click();
    await publishing;
    const last = page.locator(`[data-testid="log-line"][data-line="${TOTAL}"]`);
    await expect(last).toBeVisible({ timeout: 30_000 });
    await expect(last).toBeInViewport();
    const streaming = await takeLongTasks(page);

    // Scrolling to the very top of 110,000 lines still works.
    await list.evaluate((el) => el.scrollTo({ top: 0 }));
    await expect(page.locator('[data-testid="log-line"][data-line="1"]')).toBeInViewport();

    const figures = {
      lines: TOTAL,
      load: { lines: LOADED, seconds: loadSeconds, long_tasks: loading.length, longest_task_ms: longest(loading) },
      streaming_1000_per_s: { lines: STREAMED, long_tasks: streaming.length, longest_task_ms: longest(streaming) },
    };
    await testInfo.attach("long-tasks.json", { body: JSON.stringify(figures, null, 2), contentType: "application/json" });
    console.log(`[long-logs] ${JSON.stringify(figures)}`);
  } finally {
    await redis.quit();
    await server.dispose();
  }
});
