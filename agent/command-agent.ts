/**
 * The command agent: runs any program as one variation (a preset's `command`, see
 * lib/presets.ts). Its stdout becomes the variation's output, its stderr its logs, its exit
 * code how it ended; pause, resume and stop are signals to its process group.
 *
 * The program gets its own process group (`detached`), so a signal reaches whatever it started
 * too (an agent CLI running a shell running tests): SIGSTOP freezes all of it, not just the top.
 * This function never publishes the final status: it returns how the program ended and the
 * runner (agent/cli.ts) reports it, unless a stop was asked for (AgentControl acknowledges it).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { LogLevel } from "../lib/events";
import type { AgentControl, Actuator } from "./control";
import type { AgentPublisher } from "./publisher";

export type CommandResult =
  | { status: "completed" }
  | { status: "failed"; error: string; exitCode: number | null }
  | { status: "stopped" };

export interface CommandAgentOptions {
  argv: string[];
  cwd: string;
  /** The program's whole environment: the caller leaves out what it must not see (Redis, tokens). */
  env: NodeJS.ProcessEnv;
  /** Between SIGTERM and SIGKILL when stopped. */
  stopGraceMs: number;
  /** Where the runner's own diagnostics go; stderr by default. */
  log?: (line: string) => void;
  /** Told the program's pid once it runs (tests look at /proc/<pid>). */
  onSpawn?: (pid: number) => void;
}

const OUTPUT_FLUSH_MS = 50;
const OUTPUT_FLUSH_BYTES = 4_096;
/** stderr lines quoted in a failure's error. */
const STDERR_TAIL_LINES = 20;
const MAX_LOG_LINE = 16_384;
/** Counts published while the program runs, so a long silent step still shows it is alive. */
const METRIC_EVERY_MS = 2_000;
/** A pause waits for the pipes to stay this quiet before it is acknowledged... */
const PAUSE_QUIET_MS = 50;
/** ...but no longer than this (a writer outside the process group would never go quiet). */
const PAUSE_DRAIN_MAX_MS = 1_000;
/** After the program exits, how long something it left behind may hold its stdout/stderr open. */
const PIPES_CLOSE_MS = 2_000;

export async function runCommandAgent(publisher: AgentPublisher, control: AgentControl, options: CommandAgentOptions): Promise<CommandResult> {
  const [command, ...args] = options.argv;
  if (!command) return { status: "failed", error: "no command to run (the preset's command is empty)", exitCode: null };
  const cwdProblem = checkDirectory(options.cwd);
  if (cwdProblem) return { status: "failed", error: cwdProblem, exitCode: null };
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  return new CommandRun(child, command, publisher, control, options).run();
}

function checkDirectory(cwd: string): string | null {
  try {
    return fs.statSync(cwd).isDirectory() ? null : `working directory ${cwd} is not a directory`;
  } catch {
    // Checked here because spawn reports a missing cwd as ENOENT, like a missing command.
    return `working directory ${cwd} does not exist`;
  }
}

function describeSpawnError(command: string, cwd: string, error: NodeJS.ErrnoException): string {
  if (error.code === "ENOENT") {
    // A script whose #! interpreter is missing fails the same way as a missing command.
    const exists = command.includes("/") && fs.existsSync(path.resolve(cwd, command));
    return exists ? `cannot run ${command}: the interpreter on its #! line was not found` : `command not found: ${command}`;
  }
  if (error.code === "EACCES") return `${command}: permission denied (is it executable?)`;
  return `could not start ${command}: ${error.message}`;
}

/**
 * stdout to output messages. A program may write a byte at a time: coalescing what arrives
 * within OUTPUT_FLUSH_MS (or OUTPUT_FLUSH_BYTES) keeps it to a few messages a second without
 * delaying text a viewer would notice. Decoded with a StringDecoder, so a character split
 * across two reads is never published as two broken halves.
 */
class OutputChunks {
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  characters = 0;

  constructor(private readonly publish: (text: string) => void) {}

  write(chunk: Buffer): void {
    this.pending += this.decoder.write(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= OUTPUT_FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), OUTPUT_FLUSH_MS);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pendingBytes = 0;
    if (this.pending === "") return;
    const text = this.pending;
    this.pending = "";
    this.characters += text.length;
    this.publish(text);
  }

  end(): void {
    this.pending += this.decoder.end();
    this.flush();
  }
}

/** How a stderr line's first word reads as a log level (`error: ...`, `WARN ...`, `fatal: ...`). */
export function logLevelOf(line: string): LogLevel {
  if (/^(error|fatal)/i.test(line)) return "error";
  if (/^warn/i.test(line)) return "warn";
  return "info";
}

/** stderr to log messages, one per line; keeps the last lines for a failure's message. */
class StderrLines {
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";
  readonly tail: string[] = [];
  lineCount = 0;

  constructor(private readonly publish: (line: string, level: LogLevel) => void) {}

  write(chunk: Buffer): void {
    const lines = (this.partial + this.decoder.write(chunk)).split("\n");
    this.partial = lines.pop()!;
    for (const line of lines) this.emit(line);
    // A program that never ends its line must not grow this without bound.
    if (this.partial.length > MAX_LOG_LINE) {
      this.emit(this.partial);
      this.partial = "";
    }
  }

  /** The last line may lack its newline. */
  end(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = "";
    if (rest !== "") this.emit(rest);
  }

  private emit(raw: string): void {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") return; // blank lines say nothing in a log pane
    this.lineCount += 1;
    this.tail.push(line);
    if (this.tail.length > STDERR_TAIL_LINES) this.tail.shift();
    this.publish(line, logLevelOf(line));
  }
}

/** The state letter of /proc/<pid>/stat (R, S, T...), or null without /proc (macOS) or process. */
function processState(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.charAt(stat.lastIndexOf(")") + 2);
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Whether `promise` settles within `ms`; the timer is cleared so it keeps no process alive. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

class CommandRun {
  private readonly stdout: OutputChunks;
  private readonly stderr: StderrLines;
  private readonly exit: Promise<Exit>;
  /** 'close': exited and both pipes read to their end. */
  private readonly closed: Promise<void>;
  private readonly log: (line: string) => void;
  private hasExited = false;
  private stopping = false;
  private paused = false;
  private lastDataAt = 0;
  private lastMetric = "";
  private resolveFinished!: () => void;
  /** Everything the program printed has been handed to the publisher. */
  private readonly finished = new Promise<void>((resolve) => (this.resolveFinished = resolve));

  constructor(
    private readonly child: ChildProcess,
    private readonly command: string,
    private readonly publisher: AgentPublisher,
    private readonly control: AgentControl,
    private readonly options: CommandAgentOptions,
  ) {
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    // Handed to the publisher without waiting for Redis: its outbox keeps them in order and
    // the caller flushes it; awaiting here would hang the agent for as long as Redis is away.
    this.stdout = new OutputChunks((text) => void publisher.output(text));
    this.stderr = new StderrLines((line, level) => void publisher.log(line, level));
    child.stdout!.on("data", (chunk: Buffer) => this.onData(() => this.stdout.write(chunk)));
    child.stderr!.on("data", (chunk: Buffer) => this.onData(() => this.stderr.write(chunk)));
    this.exit = new Promise((resolve) => child.once("exit", (code, signal) => {
      this.hasExited = true;
      resolve({ code, signal });
    }));
    this.closed = new Promise((resolve) => child.once("close", () => resolve()));
  }

  async run(): Promise<CommandResult> {
    const spawnError = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      this.child.once("spawn", () => resolve(null));
      this.child.once("error", resolve);
    });
    if (spawnError) return { status: "failed", error: describeSpawnError(this.command, this.options.cwd, spawnError), exitCode: null };
    this.child.on("error", (error) => this.log(`runwatch agent: ${this.command}: ${error.message}`));
    const pid = this.child.pid!;
    this.log(`runwatch agent: started ${this.command} (pid ${pid})`);
    void this.publisher.status("running");
    this.options.onSpawn?.(pid);
    this.control.attach(this.actuator());

    const metrics = setInterval(() => this.publishMetric(false), METRIC_EVERY_MS);
    let exit: Exit;
    try {
      exit = await this.exit;
      this.child.stdout!.resume(); // a pause may have left it paused; its end must be read
      await this.pipesClosed(pid);
    } finally {
      clearInterval(metrics);
    }
    this.stdout.end();
    this.stderr.end();
    this.publishMetric(true);
    this.resolveFinished();
    return this.outcome(exit);
  }

  private onData(handle: () => void): void {
    this.lastDataAt = Date.now();
    handle();
  }

  private actuator(): Actuator {
    return {
      pause: async () => {
        this.signal("SIGSTOP");
        this.paused = true;
        // What the program wrote before it froze is still in the pipes: publish it now, so
        // nothing follows the `paused` acknowledgement; then read no more stdout until resumed.
        await this.untilStopped();
        await this.pipesQuiet();
        this.stdout.flush();
        if (!this.hasExited) this.child.stdout!.pause(); // after exit, its end must still be read
      },
      resume: () => {
        this.paused = false;
        this.child.stdout!.resume();
        this.signal("SIGCONT");
      },
      stop: async () => {
        this.stopping = true;
        this.child.stdout!.resume();
        // A stopped process only acts on SIGTERM once continued.
        this.signal("SIGCONT");
        this.signal("SIGTERM");
        if (!(await settlesWithin(this.exit, this.options.stopGraceMs))) {
          this.log(`runwatch agent: ${this.command} still running ${this.options.stopGraceMs} ms after SIGTERM; sending SIGKILL`);
          this.signal("SIGKILL");
        }
        await this.finished;
      },
    };
  }

  /** To the whole process group; never after the program exited (its pid may be reused). */
  private signal(signal: NodeJS.Signals): void {
    if (this.hasExited) return;
    try {
      process.kill(-this.child.pid!, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") this.log(`runwatch agent: ${signal} to ${this.command}: ${(error as Error).message}`);
    }
  }

  /**
   * A signal takes effect when the kernel next schedules the process, not when kill() returns;
   * where /proc exists, wait until it shows the program stopped (T) or gone.
   */
  private async untilStopped(): Promise<void> {
    const deadline = Date.now() + PAUSE_DRAIN_MAX_MS;
    while (!this.hasExited && Date.now() < deadline) {
      const state = processState(this.child.pid!);
      if (state === null || /[TtZX]/.test(state)) return;
      await sleep(5);
    }
  }

  private async pipesQuiet(): Promise<void> {
    const since = Date.now();
    const deadline = since + PAUSE_DRAIN_MAX_MS;
    while (Date.now() - Math.max(since, this.lastDataAt) < PAUSE_QUIET_MS && Date.now() < deadline) await sleep(10);
  }

  /**
   * A background process the program started may still hold its stdout/stderr: it is part of
   * this variation and would outlive it unseen, so its group is killed rather than waited for.
   */
  private async pipesClosed(pid: number): Promise<void> {
    if (await settlesWithin(this.closed, PIPES_CLOSE_MS)) return;
    this.log(`runwatch agent: ${this.command} exited but something it started keeps its output open; killing its process group`);
    try {
      process.kill(-pid, "SIGKILL"); // the group outlives its leader, so the id is still ours
    } catch {
      // already gone
    }
    if (await settlesWithin(this.closed, PIPES_CLOSE_MS)) return;
    this.child.stdout!.destroy();
    this.child.stderr!.destroy();
  }

  private publishMetric(final: boolean): void {
    if (this.paused && !final) return;
    const content = { characters: this.stdout.characters, lines_of_stderr: this.stderr.lineCount };
    const key = JSON.stringify(content);
    if (key === this.lastMetric && !final) return;
    this.lastMetric = key;
    void this.publisher.metric(content);
  }

  private outcome({ code, signal }: Exit): CommandResult {
    if (this.stopping) return { status: "stopped" };
    if (code === 0) return { status: "completed" };
    const how = code !== null ? `exited with code ${code}` : `was killed by ${signal}`;
    const exitCode = code ?? 128 + (signal ? os.constants.signals[signal] : 0);
    const tail = this.stderr.tail;
    const error = `${this.command} ${how}. ${tail.length > 0 ? `Last stderr:\n${tail.join("\n")}` : "It wrote nothing on stderr."}`;
    return { status: "failed", error, exitCode };
  }
}
