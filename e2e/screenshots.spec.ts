import { expect, test } from "@playwright/test";

/**
 * The run page and the home page at a laptop and a phone size, in light and dark schemes,
 * attached to the test report (playwright-report/) for a person to look at. The checks here
 * are what a screenshot cannot be trusted to show: nothing wider than the screen.
 */
const SIZES = [
  { name: "laptop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;

test("run page and home page at 1280x800 and 390x844, light and dark", async ({ page, browser }, testInfo) => {
  const created = await page.request.post("/api/v1/runs", { data: { prompt: "Screenshots of a finished run", variations: 3 } });
  const { run_id: runId } = (await created.json()) as { run_id: string };
  await page.goto(`/runs/${runId}`);
  await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });

  for (const size of SIZES) {
    for (const colorScheme of ["light", "dark"] as const) {
      const context = await browser.newContext({ viewport: { width: size.width, height: size.height }, colorScheme, baseURL: testInfo.project.use.baseURL });
      const view = await context.newPage();
      for (const [what, path] of [["run", `/runs/${runId}`], ["home", "/"]] as const) {
        await view.goto(path);
        if (what === "run") await expect(view.getByTestId("run-status")).toHaveAttribute("data-status", "completed");
        else await expect(view.getByTestId("runs-list")).toBeVisible();
        // Nothing may force sideways scrolling on either screen.
        expect(await view.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), `${what} ${size.name} ${colorScheme}`).toBeLessThanOrEqual(0);
        await testInfo.attach(`${what}-${size.name}-${colorScheme}.png`, { body: await view.screenshot({ fullPage: what === "home" }), contentType: "image/png" });
      }
      await context.close();
    }
  }
});
