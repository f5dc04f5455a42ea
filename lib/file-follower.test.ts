import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { followFile } from "./file-follower";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-follow-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function until(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => (check() ? resolve() : Date.now() > deadline ? reject(new Error("timed out")) : setTimeout(tick, 10));
    tick();
  });
}

describe("followFile", () => {
  it("waits for a file that does not exist yet, then reads it from the start and follows it", async () => {
    const file = path.join(dir, "out.jsonl");
    const lines: string[] = [];
    const stop = followFile(file, { onLine: (l) => lines.push(l), onError: (m) => lines.push(`error ${m}`), pollMs: 20 });
    await new Promise((r) => setTimeout(r, 60));
    fs.writeFileSync(file, "one\ntwo\r\nthr");
    await until(() => lines.length === 2);
    fs.appendFileSync(file, "ee – ünïcode\n");
    await until(() => lines.length === 3);
    expect(lines).toEqual(["one", "two", "three – ünïcode"]);
    stop();
  });

  it("never calls back after stop", async () => {
    const file = path.join(dir, "out.jsonl");
    fs.writeFileSync(file, "a\n");
    const lines: string[] = [];
    const stop = followFile(file, { onLine: (l) => lines.push(l), onError: () => lines.push("error"), pollMs: 10 });
    await until(() => lines.length === 1);
    stop();
    fs.appendFileSync(file, "b\nc\n");
    await new Promise((r) => setTimeout(r, 100));
    expect(lines).toEqual(["a"]);
  });

  it("keeps a multi-byte character split across reads intact", async () => {
    const file = path.join(dir, "out.jsonl");
    const text = `${"é".repeat(40_000)}\n`; // 80,000 bytes: more than one read, split mid-character
    fs.writeFileSync(file, text);
    const lines: string[] = [];
    const stop = followFile(file, { onLine: (l) => lines.push(l), onError: () => undefined });
    await until(() => lines.length === 1);
    expect(lines[0]).toBe("é".repeat(40_000));
    stop();
  });

  it("with stopAtEnd, reads what is there (last line even without a newline) and ends", async () => {
    const file = path.join(dir, "out.jsonl");
    fs.writeFileSync(file, "a\nb");
    const seen: string[] = [];
    followFile(file, { onLine: (l) => seen.push(l), onError: (m) => seen.push(`error ${m}`), stopAtEnd: { onEnd: () => seen.push("end") } });
    await until(() => seen.includes("end"));
    expect(seen).toEqual(["a", "b", "end"]);
  });

  it("with stopAtEnd, reports a missing file as an error", async () => {
    const seen: string[] = [];
    followFile(path.join(dir, "missing.jsonl"), { onLine: (l) => seen.push(l), onError: (m) => seen.push(m), stopAtEnd: { onEnd: () => seen.push("end") } });
    await until(() => seen.length === 1);
    expect(seen[0]).toMatch(/there is no log at .*missing\.jsonl/);
  });
});
