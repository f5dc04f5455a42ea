/**
 * Start and stop a local redis-server for `npm start` and the tests. Each gets its own port
 * and data folder, so it never touches a Redis the machine already runs.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { aptInstall, freePort, which } from "./system.mjs";

export function ensureRedisServer() {
  if (!which("redis-server")) aptInstall(["redis-server"], "the local Redis that Runwatch starts when REDIS_URL is unset");
  const path = which("redis-server");
  if (!path) throw new Error("redis-server is still not on PATH after installing it");
  return path;
}

/** Resolves when the server answers PING (or asks for a password), rejects after `timeoutMs`. */
export async function waitForRedis(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.setTimeout(500);
      socket.once("connect", () => socket.write("PING\r\n"));
      socket.once("data", (data) => {
        socket.destroy();
        // NOAUTH: a server whose default user is off (an ACL file) is up too.
        resolve(/^(\+PONG|-NOAUTH)/.test(data.toString()));
      });
      socket.once("error", () => resolve(false));
      socket.once("timeout", () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * @param {{ dir: string, persistent: boolean, port?: number, extraArgs?: string[], quiet?: boolean }} options
 * persistent: AOF with fsync every second (what `npm start` keeps); otherwise nothing is written.
 */
export async function startRedis({ dir, persistent, port, extraArgs = [], quiet = true }) {
  const binary = ensureRedisServer();
  fs.mkdirSync(dir, { recursive: true });
  const chosenPort = port ?? (await freePort());
  const args = [
    "--port", String(chosenPort),
    "--bind", "127.0.0.1",
    "--dir", dir,
    "--daemonize", "no",
    "--save", "",
    ...(persistent
      ? ["--appendonly", "yes", "--appendfsync", "everysec"]
      : ["--appendonly", "no"]),
    ...extraArgs,
  ];
  const child = spawn(binary, args, { stdio: quiet ? ["ignore", "ignore", "pipe"] : "inherit" });
  let stderr = "";
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    await Promise.race([
      waitForRedis(chosenPort),
      exited.then((code) => {
        throw new Error(`redis-server exited with code ${code} before it was ready${stderr ? `: ${stderr.trim()}` : ""}`);
      }),
    ]);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    port: chosenPort,
    url: `redis://127.0.0.1:${chosenPort}`,
    child,
    /** SIGTERM lets redis flush its AOF before exiting. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}
