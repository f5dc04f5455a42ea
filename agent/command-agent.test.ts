/**
 * The command agent with real processes (examples/echo-agent.mjs and small inline scripts), a
 * real AgentPublisher on the test Redis, and control messages handed to a real AgentControl.
 * What is asserted is what the publisher prints (the wire) and what /proc says about the
 * processes, not the agent's internals.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { AgentMessage, ControlAction } from "@/lib/events";
import { newRun, setupTestRedis } from "../test/support/helpers";
import { runCommandAgent, type CommandAgentOptions, type CommandResult } from "./command-agent";
import { AgentControl } from "./control";
import { AgentPublisher } from "./publisher";

const redisClient = setupTestRedis();
const ECHO = fileURLToPath(new URL("../examples/echo-agent.mjs", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NODE = process.execPath;
const NODE_SCRIPT_WITH_BAD_SHEBANG = path.join(os.tmpdir(), `runwatch-bad-shebang-${process.pid}.sh`);

/** Process groups of agents still running when a test ends (it failed): killed so the worker can exit. */
const unfinished = new Set<number>();
afterEach(() => {
  for (const pid of unfinished) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  unfinished.clear();
});

afterAll(() => fs.rmSync(NODE_SCRIPT_WITH_BAD_SHEBANG, { force: true }));

const randomId = () => Array.from({ length: 16 }, () => "0123456789abcdefghijklmnopqrstuvwxyz"[Math.floor(Math.random() * 36)]).join("");

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs argv as a command agent; everything the publisher prints is kept in `messages`. */
async function startAgent(argv: string[], options: Partial<CommandAgentOptions> = {}) {
  const run = await newRun(1);
  const messages: AgentMessage[] = [];
  const publisher = new AgentPublisher({ sink: redisClient(), runId: run.runId, variationId: "var-1", writeLine: (line) => messages.push(JSON.parse(line) as AgentMessage), log: () => {} });
  const control = new AgentControl(publisher, "var-1", () => {});
  let pid = 0;
  const result: Promise<CommandResult> = runCommandAgent(publisher, control, {
    argv, cwd: ROOT, env: process.env, stopGraceMs: 5_000, log: () => {},
    onSpawn: (p) => {
      pid = p;
      unfinished.add(p);
    },
    ...options,
  }).finally(() => unfinished.delete(pid));
  const ofType = <T extends AgentMessage["type"]>(type: T) => messages.filter((m): m is Extract<AgentMessage, { type: T }> => m.type === type);
  return {
    messages, publisher, result,
    pid: () => pid,
    outputs: () => ofType("output"),
    text: () => ofType("output").map((m) => m.content).join(""),
    logs: () => ofType("log"),
    statuses: () => ofType("status"),
    /** Applies a control message as the feed would; resolves once it is acknowledged. */
    async control(action: ControlAction) {
      const controlId = `ctl-${randomId()}`;
      control.handle({ control_id: controlId, run_id: run.runId, action, variation_id: null, timestamp: new Date().toISOString() });
      await control.settled();
      const ack = ofType("status").find((m) => m.metadata.control_id === controlId);
      if (!ack) throw new Error(`no acknowledgement of ${action}`);
      return ack;
    },
  };
}

/** The process's state letter in /proc/<pid>/stat: T when stopped by a signal. */
function procState(pid: number): string {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

/** Exited: reaped, or a zombie (an orphaned grandchild waits for PID 1 to reap it). */
function isGone(pid: number): boolean {
  try {
    return procState(pid) === "Z";
  } catch {
    return true; // no /proc/<pid>: reaped
  }
}

const stderrLines = (stderr: string) => stderr.split("\n").filter((line) => line !== "");

describe("runCommandAgent with the example agent", () => {
  it("publishes running, then stdout as output in order and stderr as leveled logs, and completes", async () => {
    const args = [ECHO, "--prompt", "Add a health check — with ünïcode ✅", "--lines", "4", "--delay-ms", "5"];
    const direct = spawnSync(NODE, args, { encoding: "utf8" });
    expect(direct.status).toBe(0);
    const agent = await startAgent([NODE, ...args]);

    expect(await agent.result).toEqual({ status: "completed" });
    expect(agent.text()).toBe(direct.stdout);
    expect(agent.text()).toContain("```js\n"); // the whole answer, code block included
    expect(agent.logs().map((m) => m.content)).toEqual(stderrLines(direct.stderr));
    expect(agent.logs().map((m) => m.metadata.level)).toEqual(["info", "warn", "info", "info", "info", "info", "info"]);
    // running before any output; no final status: that is the caller's to publish.
    expect(agent.messages[0]).toMatchObject({ type: "status", content: "running" });
    expect(agent.statuses().map((m) => m.content)).toEqual(["running"]);
    expect(agent.messages.map((m) => m.sequence)).toEqual(agent.messages.map((_, i) => i + 1));
    expect(agent.messages.at(-1)).toMatchObject({ type: "metric", content: { characters: direct.stdout.length, lines_of_stderr: 7 } });
    expect(await agent.publisher.flush(5_000)).toBe(0); // and Redis took every message
  });

  it("fails with the exit code and the last 20 stderr lines in the error", async () => {
    const args = [ECHO, "--prompt", "break", "--lines", "30", "--delay-ms", "1", "--fail-with", "3"];
    const direct = spawnSync(NODE, args, { encoding: "utf8" });
    expect(direct.status).toBe(3);
    const agent = await startAgent([NODE, ...args]);

    const result = await agent.result;
    const tail = stderrLines(direct.stderr).slice(-20);
    expect(tail.at(-1)).toBe("error: giving up on purpose (--fail-with 3)");
    expect(result).toEqual({ status: "failed", exitCode: 3, error: `${NODE} exited with code 3. Last stderr:\n${tail.join("\n")}` });
    expect(agent.logs().at(-1)).toMatchObject({ content: "error: giving up on purpose (--fail-with 3)", metadata: { level: "error" } });
    expect(agent.text()).toBe(direct.stdout);
    expect(agent.statuses().map((m) => m.content)).toEqual(["running"]);
  });

  it("reports a command that does not exist, or a missing working directory, as failed without throwing", async () => {
    fs.writeFileSync(NODE_SCRIPT_WITH_BAD_SHEBANG, "#!/nonexistent/runwatch-interpreter\n", { mode: 0o755 });
    const missing = await startAgent(["runwatch-no-such-command-4711", "--prompt", "x"]);
    expect(await missing.result).toEqual({ status: "failed", error: "command not found: runwatch-no-such-command-4711", exitCode: null });
    expect(missing.messages).toEqual([]); // never ran: not even `running`

    const badInterpreter = await startAgent([NODE_SCRIPT_WITH_BAD_SHEBANG]);
    expect(await badInterpreter.result).toMatchObject({ status: "failed", error: `cannot run ${NODE_SCRIPT_WITH_BAD_SHEBANG}: the interpreter on its #! line was not found` });

    const noDir = await startAgent([NODE, ECHO, "--prompt", "x"], { cwd: "/nonexistent/runwatch-dir" });
    expect(await noDir.result).toEqual({ status: "failed", error: "working directory /nonexistent/runwatch-dir does not exist", exitCode: null });
  });

  it("pause freezes the process (state T) and publishes nothing until resume; stop sends SIGTERM", async () => {
    const agent = await startAgent([NODE, ECHO, "--prompt", "pause me", "--lines", "2000", "--delay-ms", "10"]);
    await until(() => agent.outputs().length >= 3, "some output");
    const pid = agent.pid();

    const paused = await agent.control("pause");
    expect(paused.content).toBe("paused");
    expect(procState(pid)).toBe("T");
    const outputsAtAck = agent.outputs().length;
    expect(agent.outputs().every((m) => m.sequence < paused.sequence)).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    expect(agent.outputs().length).toBe(outputsAtAck); // it writes every 10 ms when running
    expect(procState(pid)).toBe("T");

    const resumed = await agent.control("resume");
    expect(resumed.content).toBe("resumed");
    expect(procState(pid)).not.toBe("T");
    await until(() => agent.outputs().length > outputsAtAck + 2, "output after resume");

    const stopped = await agent.control("stop");
    expect(await agent.result).toEqual({ status: "stopped" });
    expect(agent.logs().at(-1)?.content).toBe("stopping on SIGTERM");
    // The ack comes after everything the program printed; nothing follows it.
    expect(stopped).toMatchObject({ content: "stopped" });
    expect(agent.messages.filter((m) => m.type !== "metric").at(-1)).toBe(stopped);
    expect(isGone(pid)).toBe(true);
  });

  it("stops a paused process promptly: SIGCONT before SIGTERM", async () => {
    const agent = await startAgent([NODE, ECHO, "--prompt", "pause then stop", "--lines", "2000", "--delay-ms", "10"]);
    await until(() => agent.outputs().length >= 1, "some output");
    await agent.control("pause");
    expect(procState(agent.pid())).toBe("T");
    const started = Date.now();
    await agent.control("stop");
    expect(await agent.result).toEqual({ status: "stopped" });
    expect(Date.now() - started).toBeLessThan(3_000); // well inside the 5 s grace: SIGTERM was handled
    expect(agent.logs().map((m) => m.content)).toContain("stopping on SIGTERM");
  });
});

describe("runCommandAgent with other programs", () => {
  it("SIGKILLs a program that ignores SIGTERM once the grace period is over", async () => {
    const script = "process.on('SIGTERM', () => process.stderr.write('ignoring SIGTERM\\n')); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);";
    const agent = await startAgent([NODE, "-e", script], { stopGraceMs: 400 });
    await until(() => agent.text() === "ready\n", "ready");
    const started = Date.now();
    await agent.control("stop");
    expect(await agent.result).toEqual({ status: "stopped" });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(3_000);
    expect(agent.logs().map((m) => m.content)).toEqual(["ignoring SIGTERM"]);
    expect(isGone(agent.pid())).toBe(true);
  });

  it("signals the whole process group: a grandchild is paused and stopped too", async () => {
    const grandchild = "setInterval(() => process.stdout.write('tick\\n'), 20)";
    const script = `const c = require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'inherit' }); process.stderr.write('grandchild ' + c.pid + '\\n'); setInterval(() => {}, 1000);`;
    const agent = await startAgent([NODE, "-e", script]);
    await until(() => agent.logs().length > 0 && agent.text().includes("tick"), "the grandchild's pid and first tick");
    const grandchildPid = Number(/^grandchild (\d+)$/.exec(agent.logs()[0]!.content)?.[1]);
    expect(grandchildPid).toBeGreaterThan(0);

    await agent.control("pause");
    expect(procState(grandchildPid)).toBe("T");
    await agent.control("stop");
    expect(await agent.result).toEqual({ status: "stopped" });
    expect(isGone(grandchildPid)).toBe(true);
  });

  it("reports death by a signal it did not send as failed with 128 + the signal number", async () => {
    const agent = await startAgent([NODE, "-e", "process.stderr.write('about to die\\n'); process.kill(process.pid, 'SIGKILL')"]);
    expect(await agent.result).toEqual({ status: "failed", exitCode: 137, error: `${NODE} was killed by SIGKILL. Last stderr:\nabout to die` });
  });

  it("never splits a multi-byte character and coalesces many small writes into few messages", async () => {
    // One byte at a time, slower than the coalescing window: é and ✅ arrive in pieces.
    const bytes = "const b = Buffer.from('é✅'); let i = 0; const t = setInterval(() => { process.stdout.write(b.subarray(i, i + 1)); if (++i === b.length) clearInterval(t); }, 70);";
    const slow = await startAgent([NODE, "-e", bytes]);
    expect(await slow.result).toEqual({ status: "completed" });
    expect(slow.outputs().map((m) => m.content)).toEqual(["é", "✅"]);

    const many = "let n = 0; const next = () => { process.stdout.write('x'); if (++n < 2000) setImmediate(next); }; next();";
    const fast = await startAgent([NODE, "-e", many]);
    expect(await fast.result).toEqual({ status: "completed" });
    expect(fast.text()).toBe("x".repeat(2000));
    expect(fast.outputs().length).toBeLessThan(100);
  });
});
