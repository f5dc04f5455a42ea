/**
 * The local orchestrator's log folder: where each variation's stdout (its JSON lines) and
 * stderr are kept, and how the log backend reads them back.
 *
 *   <RUNWATCH_DATA_DIR>/logs/<run id>/run.json            which variations the run has
 *   <RUNWATCH_DATA_DIR>/logs/<run id>/<variation>.jsonl    the agent's stdout
 *   <RUNWATCH_DATA_DIR>/logs/<run id>/<variation>.stderr.log
 *
 * Agents write these files directly (the server hands them the file as stdout), so a server
 * restart neither loses lines nor kills the agents, the way a pod's log outlives a kubectl.
 */
import "server-only";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { serverEnv } from "./env";
import { isTerminal } from "./events";
import { followFile } from "./file-follower";
import { variationIdSchema } from "./ids";
import type { LineSource } from "./line-source";
import { runLogger } from "./log";
import { parseAgentMessage } from "./sse-events";

/** Enough of a log's end to find its last message, without reading a big log whole. */
const TAIL_BYTES = 64 * 1024;

export function runLogDir(runId: string): string {
  return path.join(serverEnv().RUNWATCH_DATA_DIR, "logs", runId);
}

export function logPaths(runId: string, variationId: string) {
  const dir = runLogDir(runId);
  return { dir, stdout: path.join(dir, `${variationId}.jsonl`), stderr: path.join(dir, `${variationId}.stderr.log`) };
}

const manifestSchema = z.object({ run_id: z.string(), variation_ids: z.array(variationIdSchema).min(1) });

/** Written when a run starts, so the log backend knows the run's variations even with Redis down. */
export function writeRunManifest(runId: string, variationIds: readonly string[]): void {
  const dir = runLogDir(runId);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "run.json"), JSON.stringify({ run_id: runId, variation_ids: variationIds }));
}

export async function readRunManifest(runId: string): Promise<string[] | null> {
  try {
    const raw = await fs.promises.readFile(path.join(runLogDir(runId), "run.json"), "utf8");
    const parsed = manifestSchema.safeParse(JSON.parse(raw));
    return parsed.success && parsed.data.run_id === runId ? parsed.data.variation_ids : null;
  } catch {
    return null;
  }
}

/** The last lines of a file (at most TAIL_BYTES of it); [] when it cannot be read. */
export function readTailLines(filePath: string, maxLines: number): string[] {
  try {
    const fd = fs.openSync(filePath, "r");
    try {
      const size = fs.fstatSync(fd).size;
      const start = Math.max(0, size - TAIL_BYTES);
      const buffer = Buffer.alloc(size - start);
      fs.readSync(fd, buffer, 0, buffer.length, start);
      const lines = buffer.toString("utf8").split("\n").filter((line) => line.length > 0);
      if (start > 0) lines.shift(); // cut mid-line
      return lines.slice(-maxLines);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return [];
  }
}

/** What an exited agent's stdout says: its last sequence number and whether it reported a result. */
export function summariseStdout(runId: string, variationId: string): { lastSequence: number; finished: boolean } {
  let lastSequence = 0;
  let finished = false;
  for (const line of readTailLines(logPaths(runId, variationId).stdout, Number.MAX_SAFE_INTEGER)) {
    const parsed = parseAgentMessage(line);
    if (!parsed.ok || parsed.message.run_id !== runId || parsed.message.variation_id !== variationId) continue;
    lastSequence = Math.max(lastSequence, parsed.message.sequence);
    if (parsed.message.type === "status" && isTerminal(parsed.message.content)) finished = true;
  }
  return { lastSequence, finished };
}

function endsMidLine(filePath: string): boolean {
  try {
    const fd = fs.openSync(filePath, "r");
    try {
      const size = fs.fstatSync(fd).size;
      if (size === 0) return false;
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      return last[0] !== 0x0a;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false; // no file yet
  }
}

/** Add a line the agent did not print itself (the orchestrator's report of its crash). */
export function appendStdoutLine(runId: string, variationId: string, line: string): void {
  const paths = logPaths(runId, variationId);
  try {
    fs.mkdirSync(paths.dir, { recursive: true });
    // An agent that died mid-line left no newline: ours must not be glued onto its text.
    fs.appendFileSync(paths.stdout, `${endsMidLine(paths.stdout) ? "\n" : ""}${line}\n`);
  } catch (error) {
    runLogger(runId, variationId).error({ err: error }, "cannot append to the agent's stdout log");
  }
}

/** Log files on this machine as a LineSource for the log backend. */
export const localLogSource: LineSource = {
  follow(runId, variationId, handlers, options) {
    return followFile(logPaths(runId, variationId).stdout, {
      onLine: handlers.line,
      onError: (message) => handlers.end(message),
      stopAtEnd: options?.toEnd ? { onEnd: () => handlers.end() } : undefined,
    });
  },
  discoverVariations: readRunManifest,
};
