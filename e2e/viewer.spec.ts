import fs from "node:fs";
import { createParser } from "eventsource-parser";
import { expect, test, type Page } from "@playwright/test";
import Redis from "ioredis";
import { keys } from "../lib/channels";
import { publishMessage } from "../lib/publish";
import { AppServer } from "./support/app-server";

/** The run's output per variation, as the API streams it (a finished run's stream ends by itself). */
async function outputsFromApi(baseURL: string, runId: string): Promise<Record<string, string>> {
  const response = await fetch(`${baseURL}/api/v1/runs/${runId}/stream/redis`);
  const outputs: Record<string, string> = {};
  const parser = createParser({
    onEvent: (e) => {
      if (e.event !== "agent_output") return;
      const data = JSON.parse(e.data) as { variation_id: string; content: string };
      outputs[data.variation_id] = (outputs[data.variation_id] ?? "") + data.content;
    },
  });
  parser.feed(await response.text());
  return outputs;
}

async function startRun(page: Page, prompt: string): Promise<string> {
  const created = await page.request.post("/api/v1/runs", { data: { prompt, variations: 1 } });
  const { run_id: runId } = (await created.json()) as { run_id: string };
  await page.goto(`/runs/${runId}`);
  return runId;
}

test("follow mode: scrolling up stops following and counts what arrives; Jump to latest follows again", async ({ page }) => {
  // The agent is this test, so output keeps coming for as long as the test needs it.
  const server = await AppServer.create({});
  const redis = new Redis(server.redisUrl);
  let publishing = true;
  try {
    await server.start();
    const runId = "run-f0110wm0de00";
    await redis.hset(keys.runMeta(runId), { prompt: "follow", agent: "demo", agents: "demo", variations: "var-1", created_at: new Date().toISOString(), ttl_seconds: 3600, stream_maxlen: 100_000 });
    const agent = (async () => {
      for (let sequence = 1; publishing && sequence < 2_000; sequence++) {
        await publishMessage(redis, { type: "output", content: `Paragraph ${sequence} of a long answer.\n\n`, run_id: runId, variation_id: "var-1", sequence, timestamp: new Date().toISOString(), metadata: {} });
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    await page.goto(`${server.url}/runs/${runId}`);
    const output = page.getByTestId("variation-output");
    await expect(output).toHaveAttribute("data-following", "true");
    await expect.poll(() => output.evaluate((el) => el.scrollHeight - el.clientHeight), { timeout: 30_000 }).toBeGreaterThan(150);
    // Following: the newest text is in view.
    expect(await output.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(48);

    // The reader turns the wheel up to read: following stops, and the position is theirs. (A
    // scrollTo() from here could be undone by new text in the same frame, with nothing to tell
    // it from the page's own scrolling; a wheel event says what the reader wants.)
    await output.hover();
    await page.mouse.wheel(0, -1_000_000);
    await expect(output).toHaveAttribute("data-following", "false");
    // The wheel scrolls smoothly: let it come to rest, near the top, and hold the reader there.
    let settled = -1;
    await expect
      .poll(async () => {
        const top = await output.evaluate((el) => el.scrollTop);
        const still = top === settled;
        settled = top;
        return still;
      }, { intervals: [250] })
      .toBe(true);
    expect(settled).toBeLessThan(200);
    const jump = page.getByTestId("jump-to-latest");
    await expect(jump).toHaveText(/^Jump to latest \((\d+) new\)$/);
    await expect.poll(async () => Number(/\((\d+) new\)/.exec((await jump.textContent()) ?? "")?.[1])).toBeGreaterThan(5);
    expect(await output.evaluate((el) => el.scrollTop)).toBe(settled); // new text did not steal the scroll

    await jump.click();
    await expect(output).toHaveAttribute("data-following", "true");
    await expect(page.getByTestId("jump-to-latest")).toHaveCount(0);
    await expect.poll(() => output.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(48);
    publishing = false;
    await agent;
  } finally {
    publishing = false;
    await redis.quit();
    await server.dispose();
  }
});

test("download a variation's output and logs; the files hold exactly what the agent sent", async ({ page, baseURL }) => {
  const runId = await startRun(page, "Write a short note about downloads");
  await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });

  const [outputDownload] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-output").click()]);
  expect(outputDownload.suggestedFilename()).toBe(`${runId}-var-1.md`);
  const expected = (await outputsFromApi(baseURL!, runId))["var-1"];
  expect(expected?.length).toBeGreaterThan(100);
  expect(fs.readFileSync((await outputDownload.path())!, "utf8")).toBe(expected);

  const [logsDownload] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-logs").click()]);
  expect(logsDownload.suggestedFilename()).toBe(`${runId}-var-1.log`);
  const lines = fs.readFileSync((await logsDownload.path())!, "utf8").trimEnd().split("\n");
  expect(lines).toHaveLength(await page.getByTestId("log-line").count());
  for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+ (DEBUG|INFO|WARN|ERROR) \S/);
});

test("log search counts and highlights matches; level filter; j / f and / keys; a linked line opens highlighted", async ({ page }) => {
  const created = await page.request.post("/api/v1/runs", { data: { prompt: "Keyboard and search", variations: 2 } });
  const { run_id: runId } = (await created.json()) as { run_id: string };
  await page.goto(`/runs/${runId}`);
  await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  const pane = page.locator('[data-testid="variation-pane"][data-variation-id="var-1"]');

  // j selects the first variation; / focuses its log search.
  const blur = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await blur();
  await page.keyboard.press("j");
  await expect(pane).toHaveAttribute("data-selected", "true");
  await page.keyboard.press("/");
  await expect(pane.getByTestId("log-search")).toBeFocused();
  await page.keyboard.type("writing section");
  const count = pane.getByTestId("log-match-count");
  await expect(count).toHaveText(/^1 of \d+$/);
  const total = Number((await count.textContent())!.split(" of ")[1]);
  expect(total).toBeGreaterThan(1);
  await expect(pane.getByTestId("log-match").first()).toHaveText(/writing section/i);
  await expect(pane.locator('[data-testid="log-line"][data-current="true"]')).toContainText(/Writing section/);
  await page.keyboard.press("Enter");
  await expect(count).toHaveText(`2 of ${total}`);
  await pane.getByTestId("log-match-prev").click();
  await pane.getByTestId("log-match-prev").click();
  await expect(count).toHaveText(`${total} of ${total}`); // wraps around

  // The level filter hides lines below it.
  await pane.getByTestId("log-search").fill("");
  const all = await pane.getByTestId("log-line").count();
  await pane.getByTestId("log-level-filter").selectOption("info");
  await expect.poll(() => pane.getByTestId("log-line").count()).toBeLessThan(all);
  await expect(pane.getByTestId("log-line").filter({ hasText: "DEBUG" })).toHaveCount(0);
  await pane.getByTestId("log-level-filter").selectOption("all");

  // f toggles follow on the selected pane (keys typed into a field are the field's).
  await blur();
  await page.keyboard.press("f");
  await expect(pane.getByTestId("variation-output")).toHaveAttribute("data-following", "false");
  await page.keyboard.press("f");
  await expect(pane.getByTestId("variation-output")).toHaveAttribute("data-following", "true");

  // Compare: both outputs side by side, exactly as the agents wrote them, differences marked.
  const outputs = await outputsFromApi(new URL(page.url()).origin, runId);
  await page.getByTestId("compare-open").click();
  await expect(page.getByTestId("compare-left")).toContainText("var-1");
  expect(await page.getByTestId("compare-left").locator("pre").textContent()).toBe(outputs["var-1"]);
  expect(await page.getByTestId("compare-right").locator("pre").textContent()).toBe(outputs["var-2"]);
  await expect(page.getByTestId("compare-diff").first()).toBeVisible();
  await expect(page.getByTestId("compare-similarity")).toHaveText(/^\d+% of words in common$/);
  await page.getByTestId("compare-close").click();
  await expect(page.getByTestId("compare-view")).toHaveCount(0);

  // The header says when the run was created and how long it took; panes their own time.
  await expect(page.getByTestId("run-times")).toContainText(/Created .* · took \d+ s/);
  await expect(pane.getByTestId("variation-elapsed")).toHaveText(/^\d+ s$/);

  // Line numbers are links; opening one shows that line highlighted.
  await pane.getByTestId("log-line-number").nth(1).click();
  await expect(page).toHaveURL(new RegExp(`/runs/${runId}#v1-L2$`));
  await page.reload();
  await expect(page.locator('[data-testid="variation-pane"][data-variation-id="var-1"] [data-testid="log-line"][data-current="true"]')).toHaveAttribute("data-line", "2");
});

test("the home page filters runs by status", async ({ page }) => {
  const created = await page.request.post("/api/v1/runs", { data: { prompt: "Filter me", variations: 1 } });
  const { run_id: runId } = (await created.json()) as { run_id: string };
  await page.goto("/");
  const row = page.getByTestId("runs-list").locator(`a[href="/runs/${runId}"]`);
  await expect(row.getByTestId("run-list-status")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
  await page.getByTestId("runs-filter-running").click();
  await expect(row).toHaveCount(0);
  await page.getByTestId("runs-filter-completed").click();
  await expect(row).toBeVisible();
  await expect(page.getByTestId("runs-filter-completed")).toHaveAttribute("aria-pressed", "true");
});

test("panes collapse and go fullscreen; on a phone, tabs show one variation at a time", async ({ page }) => {
  const created = await page.request.post("/api/v1/runs", { data: { prompt: "Tabs and fullscreen", variations: 2 } });
  const { run_id: runId } = (await created.json()) as { run_id: string };
  await page.goto(`/runs/${runId}`);
  const pane = (n: number) => page.locator(`[data-testid="variation-pane"][data-variation-id="var-${n}"]`);
  await expect(page.getByTestId("variation-tabs")).toBeHidden(); // wide screen: every pane, no tabs

  await pane(1).getByTestId("collapse-pane").click();
  await expect(pane(1).getByTestId("variation-output")).toBeHidden();
  await expect(pane(1).getByTestId("collapse-pane")).toHaveAttribute("aria-expanded", "false");
  await pane(1).getByTestId("collapse-pane").click();
  await expect(pane(1).getByTestId("variation-output")).toBeVisible();

  await pane(2).getByTestId("fullscreen-pane").click();
  await expect(pane(2)).toHaveAttribute("data-fullscreen", "true");
  const box = await pane(2).boundingBox();
  expect(box!.width).toBeGreaterThan(1_200);
  await page.keyboard.press("Escape");
  await expect(pane(2)).not.toHaveAttribute("data-fullscreen", "true");

  await page.setViewportSize({ width: 390, height: 844 });
  const tabs = page.getByTestId("variation-tab");
  await expect(tabs).toHaveCount(2);
  // The pane last used (var-2, shown fullscreen) is the one shown.
  await expect(tabs.nth(1)).toHaveAttribute("aria-selected", "true");
  await expect(pane(2)).toBeVisible();
  await expect(pane(1)).toBeHidden();
  await tabs.nth(0).click();
  await expect(tabs.nth(0)).toHaveAttribute("aria-selected", "true");
  await expect(pane(1)).toBeVisible();
  await expect(pane(2)).toBeHidden();
});
