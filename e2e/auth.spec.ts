import { expect, test } from "@playwright/test";
import { AppServer } from "./support/app-server";

/**
 * RUNWATCH_AUTH=token in a real browser, on its own app server: the page sends a visitor to
 * sign in, the session cookie carries the EventSource, a viewer watches without buttons to
 * press, an admin starts and stops a run, and signing out ends it.
 */

const ADMIN = "e2e-admin-token-0123456789";
const VIEWER = "e2e-viewer-token-0123456789";

let app: AppServer;

test.beforeAll(async () => {
  test.setTimeout(90_000);
  app = await AppServer.create({ RUNWATCH_AUTH: "token", RUNWATCH_ADMIN_TOKEN: ADMIN, RUNWATCH_VIEWER_TOKEN: VIEWER, DEMO_AGENT_SPEED: "1" });
  await app.start();
});

test.afterAll(async () => {
  await app?.dispose();
});

async function signIn(page: import("@playwright/test").Page, token: string) {
  await page.getByTestId("sign-in-token").fill(token);
  await page.getByTestId("sign-in-submit").click();
}

test("an admin signs in, starts a run and stops it; a viewer watches it without controls", async ({ page, browser }) => {
  test.setTimeout(90_000);
  await page.goto(`${app.url}/`);
  await expect(page).toHaveURL(/\/signin\?next=%2F$/);

  await signIn(page, "not-the-token-at-all");
  await expect(page.getByTestId("sign-in-error")).toHaveText("That is neither the viewer token nor the admin token");

  await signIn(page, ADMIN);
  await expect(page.getByTestId("signed-in-as")).toContainText("Signed in as admin");
  await expect(page.getByTestId("auth-off")).toHaveCount(0);
  const cookies = await page.context().cookies();
  expect(cookies.find((c) => c.name === "runwatch_session")?.httpOnly).toBe(true);

  await page.getByTestId("prompt-input").fill("Explain backpressure");
  await page.getByTestId("start-run").click();
  await expect(page).toHaveURL(/\/runs\/run-[0-9a-z]{12}$/);
  const runUrl = page.url();
  // The EventSource got through with the cookie alone: output streams in.
  await expect(page.getByTestId("variation-output").first()).not.toBeEmpty({ timeout: 30_000 });

  // A viewer, in a browser of its own, lands on sign-in with the run as `next`, then watches.
  const viewerContext = await browser.newContext();
  const viewer = await viewerContext.newPage();
  await viewer.goto(runUrl);
  await expect(viewer).toHaveURL(/\/signin\?next=%2Fruns%2Frun-/);
  await signIn(viewer, VIEWER);
  await expect(viewer).toHaveURL(runUrl);
  await expect(viewer.getByTestId("signed-in-as")).toContainText("Signed in as viewer");
  await expect(viewer.getByTestId("variation-output").first()).not.toBeEmpty({ timeout: 30_000 });
  await expect(viewer.getByTestId("run-status")).toHaveAttribute("data-status", "running");
  await expect(page.getByTestId("stop-run")).toBeVisible();
  await expect(viewer.getByTestId("stop-run")).toHaveCount(0);
  await expect(viewer.getByTestId("stop-variation")).toHaveCount(0);
  await viewer.goto(`${app.url}/`);
  await expect(viewer.getByTestId("viewer-only")).toBeVisible();
  await expect(viewer.getByTestId("new-run-form")).toHaveCount(0);

  // The admin stops the run; the viewer's page sees it end.
  await page.getByTestId("stop-run").click();
  await viewer.goto(runUrl);
  await expect(viewer.getByTestId("run-status")).toHaveAttribute("data-status", "completed", { timeout: 30_000 });

  // Signing out ends the session: the next visit asks to sign in again.
  await viewer.getByTestId("sign-out").click();
  await expect(viewer).toHaveURL(/\/signin$/);
  await viewer.goto(runUrl);
  await expect(viewer).toHaveURL(/\/signin\?next=/);
  await viewerContext.close();
});

test("without a session the API answers 401 and pages redirect, whether the run exists or not", async ({ request }) => {
  const runs = await request.get(`${app.url}/api/v1/runs`, { maxRedirects: 0 });
  expect(runs.status()).toBe(401);
  const missing = await request.get(`${app.url}/runs/run-000000000000`, { maxRedirects: 0 });
  const malformed = await request.get(`${app.url}/runs/not-a-run`, { maxRedirects: 0 });
  for (const response of [missing, malformed]) {
    expect(response.status()).toBe(307);
    expect(response.headers().location).toMatch(/^\/signin\?next=/);
  }
  expect((await request.get(`${app.url}/api/health`)).status()).toBe(200);
});
