/**
 * server.mjs's own checks, made before Next loads (so no build is needed): a port that is not
 * one stops it with a message naming what it got. Serving is covered by every e2e and fault
 * test, which run it (e2e/support/app-server.ts, scripts/start.mjs).
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../scripts/lib/system.mjs";

describe("server.mjs", () => {
  it.each([["-p", "http"], ["--port", "70000"]])("refuses %s %s with a clear message", (flag, value) => {
    const result = spawnSync(process.execPath, [path.join(ROOT, "server.mjs"), flag, value], { encoding: "utf8", timeout: 10_000 });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`port "${value}" is not a port number`);
  });
});
