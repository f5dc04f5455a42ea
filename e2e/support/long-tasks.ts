import type Redis from "ioredis";
import { expect, type Page } from "@playwright/test";
import { keys } from "../../lib/channels";

/**
 * A one-variation run written straight into Redis (no agent: the spec publishes), opened in
 * `page` and live, with the page collecting main-thread long tasks from then on.
 */
export async function openWatchedRun(page: Page, redis: Redis, baseUrl: string, runId: string, prompt: string): Promise<void> {
  await redis.hset(keys.runMeta(runId), { prompt, agent: "demo", agents: "demo", variations: "var-1", created_at: new Date().toISOString(), ttl_seconds: 3600, stream_maxlen: 200_000 });
  await page.goto(`${baseUrl}/runs/${runId}`);
  await expect(page.getByTestId("connection-indicator")).toHaveAttribute("data-state", "live");
  await page.evaluate(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.longTasks.push(entry.duration);
    }).observe({ type: "longtask", buffered: false });
  });
}

/** The long tasks (ms) the page saw since openWatchedRun, or since the last takeLongTasks. */
export function longTasks(page: Page): Promise<number[]> {
  return page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks);
}

/** The long tasks seen so far, and start collecting afresh (one phase of a spec from the next). */
export function takeLongTasks(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const w = window as unknown as { longTasks: number[] };
    return w.longTasks.splice(0);
  });
}

/** Round to whole ms: the longest task of a phase (0 if it had none over 50 ms). */
export const longest = (tasks: number[]): number => Math.round(Math.max(0, ...tasks));
