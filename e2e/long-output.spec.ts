import Redis from "ioredis";
import { expect, test } from "@playwright/test";
import { publishMessage } from "../lib/publish";
import { AppServer } from "./support/app-server";
import { longest, openWatchedRun, takeLongTasks } from "./support/long-tasks";

/**
 * A long answer (3,000 paragraphs and code blocks, streamed at 1,000 chunks a second) in one
 * variation: only the blocks near the view are in the page, the newest is shown while
 * following, and scrolling to the top shows the first, each block measured so none overlaps the
 * next. The longest main-thread task while streaming and on the scroll are reported, not asserted.
 */
test("a 3,000-block output is virtualised: few blocks in the DOM, first and last reachable", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const server = await AppServer.create({});
  const redis = new Redis(server.redisUrl);
  try {
    await server.start();
    const runId = "run-l0ng0utput00";
    await openWatchedRun(page, redis, server.url, runId, "long output");

    const TOTAL = 3_000;
    const chunk = (n: number) => (n % 10 === 0 ? `\`\`\`ts\nconst block${n} = ${n};\nconsole.log(block${n});\n\`\`\`\n\n` : `Paragraph ${n}: some **bold** text and \`code\`.\n\n`);
    // 1,000 chunks a second (the rate), in 20 ms ticks, in order on one connection.
    const t0 = Date.now();
    for (let sent = 0; sent < TOTAL; ) {
      const due = Math.min(TOTAL, Math.floor(((Date.now() - t0) / 1000) * 1_000));
      const batch: Promise<unknown>[] = [];
      for (; sent < due; sent++) {
        const sequence = sent + 1;
        batch.push(publishMessage(redis, { type: "output", content: chunk(sequence), run_id: runId, variation_id: "var-1", sequence, timestamp: new Date().toISOString(), metadata: {} }));
      }
      await Promise.all(batch);
      await new Promise((r) => setTimeout(r, 20));
    }

    const virtual = page.getByTestId("output-virtualised");
    await expect(virtual).toHaveAttribute("data-blocks", String(TOTAL), { timeout: 30_000 });
    const output = page.getByTestId("variation-output");
    // Following: the newest paragraph is in view.
    await expect(output.getByText(`Paragraph ${TOTAL - 1}:`)).toBeInViewport();
    const streaming = await takeLongTasks(page);
    const rendered = await virtual.locator(":scope > div").count();
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThan(100);

    // The top holds the first paragraph, and no two shown blocks overlap.
    await output.evaluate((el) => el.scrollTo({ top: 0 }));
    await expect(output.getByText("Paragraph 1:", { exact: false }).first()).toBeInViewport();
    const overlaps = await virtual.evaluate((el) => {
      const boxes = [...el.children].map((child) => child.getBoundingClientRect()).sort((a, b) => a.top - b.top);
      return boxes.filter((box, i) => i > 0 && box.top < boxes[i - 1]!.bottom - 0.5).length;
    });
    expect(overlaps).toBe(0);

    const scrolling = await takeLongTasks(page);
    const figures = {
      blocks: TOTAL,
      rendered_blocks: rendered,
      streaming_1000_per_s: { long_tasks: streaming.length, longest_task_ms: longest(streaming) },
      scroll_to_top: { long_tasks: scrolling.length, longest_task_ms: longest(scrolling) },
    };
    await testInfo.attach("long-output.json", { body: JSON.stringify(figures, null, 2), contentType: "application/json" });
    console.log(`[long-output] ${JSON.stringify(figures)}`);
  } finally {
    await redis.quit();
    await server.dispose();
  }
});
