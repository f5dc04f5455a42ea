/**
 * Runwatch over TLS: a redis-server with a certificate signed by a CA this test makes with
 * openssl (Debian's redis-server 7.0 is built with TLS), REDIS_URL=rediss://... at its TLS port
 * and REDIS_TLS_CA_FILE naming the CA. The app and real agent processes (which get the same two
 * variables) stream a run through it; a client that does not trust the CA is refused.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentsIdle, startRun } from "@/lib/orchestrator";
import { closeRedis } from "@/lib/redis";
import { createRedisClient } from "@/lib/redis-connect";
import { resetSubscriber } from "@/lib/subscriber";
import { startRedis } from "../../scripts/lib/redis.mjs";
import { aptInstall, freePort, which } from "../../scripts/lib/system.mjs";
import { openStream } from "../support/helpers";

const ENV = ["REDIS_URL", "REDIS_TLS_CA_FILE", "DEMO_AGENT_SPEED"] as const;

let dir: string;
let redis: Awaited<ReturnType<typeof startRedis>>;
let url: string;
const restore: Record<string, string | undefined> = {};

/** A CA, and a certificate it signed for 127.0.0.1 and localhost. */
function makeCertificates(into: string): { ca: string; cert: string; key: string } {
  if (!which("openssl")) aptInstall(["openssl"], "the certificates of the TLS test");
  const file = (name: string) => path.join(into, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Runwatch test CA", "-keyout", file("ca.key"), "-out", file("ca.pem"));
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", file("redis.key"), "-out", file("redis.csr"));
  fs.writeFileSync(file("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl("x509", "-req", "-in", file("redis.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial", "-days", "1", "-extfile", file("san.ext"), "-out", file("redis.pem"));
  return { ca: file("ca.pem"), cert: file("redis.pem"), key: file("redis.key") };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "runwatch-test-tls-"));
  const { ca, cert, key } = makeCertificates(dir);
  const tlsPort = await freePort();
  // The plain port stays for startRedis's readiness check; the app is only given the TLS one.
  redis = await startRedis({ dir, persistent: false, extraArgs: ["--tls-port", String(tlsPort), "--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", ca, "--tls-auth-clients", "no"] });
  url = `rediss://127.0.0.1:${tlsPort}`;
  // lib/env.ts reads the environment on first use, and nothing in this file has used it yet.
  for (const name of ENV) restore[name] = process.env[name];
  process.env.REDIS_URL = url;
  process.env.REDIS_TLS_CA_FILE = ca;
  process.env.DEMO_AGENT_SPEED = "20";
}, 30_000);

afterAll(async () => {
  await agentsIdle(30_000).catch(() => {});
  await closeRedis();
  resetSubscriber();
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  for (const name of ENV) {
    if (restore[name] === undefined) delete process.env[name];
    else process.env[name] = restore[name];
  }
}, 40_000);

describe("rediss:// with REDIS_TLS_CA_FILE", () => {
  it("streams a run of real agents through TLS to run_complete", async () => {
    const { runId } = await startRun({ prompt: "Encrypted, please", agents: ["demo", "demo"] });
    const { reader } = await openStream(runId);
    const [complete] = await reader!.waitForEvents(1, (e) => e.event === "run_complete", 40_000);
    const errors = reader!.events.filter((e) => e.event === "agent_error").map((e) => e.data);
    expect(errors).toEqual([]);
    expect(JSON.parse(complete!.data)).toMatchObject({ statuses: { "var-1": "completed", "var-2": "completed" } });
    for (const variation of ["var-1", "var-2"]) {
      expect(reader!.events.some((e) => e.event === "agent_output" && (JSON.parse(e.data) as { variation_id: string }).variation_id === variation)).toBe(true);
    }
  }, 60_000);

  it("refuses the connection without the CA: the certificate is checked", async () => {
    const untrusting = createRedisClient({ mode: "single", url }, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    const refused = new Promise<Error>((resolve) => untrusting.once("error", resolve));
    expect((await refused).message).toMatch(/self[- ]signed certificate/i);
    untrusting.disconnect();
    const trusting = createRedisClient({ mode: "single", url, tlsCaFile: process.env.REDIS_TLS_CA_FILE }, { maxRetriesPerRequest: 0 });
    expect(await trusting.ping()).toBe("PONG");
    trusting.disconnect();
  });
});
