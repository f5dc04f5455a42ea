import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { AppServer } from "./support/app-server";

/** Characters of output each variation printed, from its stdout log: the truth to compare with. */
function outputLengths(dataDir: string, runId: string, variationIds: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of variationIds) {
    const lines = fs.readFileSync(path.join(dataDir, "logs", runId, `${id}.jsonl`), "utf8").split("\n").filter(Boolean);
    out[id] = lines.map((l) => JSON.parse(l) as { type: string; content: unknown }).filter((m) => m.type === "output").reduce((n, m) => n + String(m.content).length, 0);
  }
  return out;
}

test.describe("a server restart mid-run", () => {
  let server: AppServer;
  test.afterEach(async () => server?.dispose());

  for (const backend of ["kubectl", "redis"] as const) {
    test(`the page shows reconnecting, then live again, and no text is lost or duplicated (${backend} backend)`, async ({ page, request }) => {
      test.setTimeout(120_000);
      server = await AppServer.create({ NEXT_PUBLIC_STREAMING_BACKEND: backend, DEMO_AGENT_SPEED: "1", SSE_HEARTBEAT_MS: "2000" });
      await server.start();
      const created = await request.post(`${server.url}/api/v1/runs`, { data: { prompt: "Survive a restart", variations: 2 } });
      expect(created.status()).toBe(202);
      const { run_id: runId } = (await created.json()) as { run_id: string };

      await page.goto(`${server.url}/runs/${runId}`);
      const indicator = page.getByTestId("connection-indicator");
      await expect(indicator).toHaveAttribute("data-state", "live");
      const panes = page.getByTestId("variation-pane");
      await expect(panes.first().getByTestId("char-count")).not.toHaveText("0 chars");

      await server.kill();
      await expect(indicator).toHaveText(new RegExp(`^reconnecting \\(attempt 1 of ${backend === "redis" ? 10 : 3}\\)$`));
      await server.start();
      await expect(indicator).toHaveAttribute("data-state", "live", { timeout: 30_000 });

      await expect(page.getByTestId("run-status")).toHaveAttribute("data-status", "completed", { timeout: 60_000 });
      const expected = outputLengths(server.dataDir, runId, ["var-1", "var-2"]);
      for (const [i, id] of ["var-1", "var-2"].entries()) {
        expect(expected[id]).toBeGreaterThan(500);
        await expect(panes.nth(i).getByTestId("char-count")).toHaveText(`${expected[id]!.toLocaleString("en")} chars`);
      }
      await expect(page.getByTestId("sequence-gap")).toHaveCount(0);
    });
  }

});
