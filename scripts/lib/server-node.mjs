/**
 * How Runwatch's server process is started: `node <SERVER_NODE_FLAGS> server.mjs`. npm start,
 * the e2e servers, the benchmark and deploy/app.Dockerfile (checked by
 * test/integration/k8s-manifests.test.ts) all use these flags, so what is measured is what runs.
 *
 * --max-semi-space-size=32: V8's young generation up to 32 MiB a semi-space instead of 16, so
 * half as many scavenges. Each one stops the server for a few ms whatever it frees (the pause
 * is fixed cost: the old generation's slots and roots, which Next makes large), and the
 * messages that arrive during a pause are the latency tail (README, "Benchmark", measured
 * 2026-12-05). It costs up to 48 MiB more of young generation (3 × 16 MiB, Node's docs).
 */
import path from "node:path";
import { ROOT } from "./system.mjs";

export const SERVER_NODE_FLAGS = Object.freeze(["--max-semi-space-size=32"]);

/** The server's entry point. */
export const SERVER_SCRIPT = path.join(ROOT, "server.mjs");

/** `process.execPath` arguments that start the server on `port` and `host`. */
export function serverArgs(port, host) {
  return [...SERVER_NODE_FLAGS, SERVER_SCRIPT, "-p", String(port), "-H", host];
}
