/**
 * Structured logs: one JSON object per line on stdout (pino), so a log pipeline can filter by
 * run, variation or backend instead of grepping prose. Fields carry what the old
 * "[runwatch] run <id>: ..." prefixes did: `name` says it is ours, `run_id` / `variation_id`
 * which run it is about.
 */
import "server-only";
import pino, { type DestinationStream, type Level, type Logger } from "pino";

export type { Logger } from "pino";

const LEVELS: readonly (Level | "silent")[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * LOG_LEVEL is read here and not through lib/env.ts on purpose: serverEnv() fails without
 * REDIS_URL, and logging has to work in every module (including the one that reports a bad
 * REDIS_URL) and in tests that never set it.
 */
function levelFromEnv(): { level: Level | "silent"; invalid?: string } {
  const raw = process.env.LOG_LEVEL?.trim().toLowerCase();
  if (!raw) return { level: "info" };
  if ((LEVELS as readonly string[]).includes(raw)) return { level: raw as Level | "silent" };
  return { level: "info", invalid: process.env.LOG_LEVEL };
}

/**
 * A logger writing JSON lines to `destination` (stdout by default). Tests pass a stream they
 * read back.
 */
export function createLogger(destination?: DestinationStream, level?: Level | "silent"): Logger {
  const fromEnv = levelFromEnv();
  const logger = pino(
    {
      name: "runwatch",
      level: level ?? fromEnv.level,
      // "level":"warn" rather than 40: readable without a lookup table, and what most log
      // stores index on.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
  if (!level && fromEnv.invalid !== undefined) {
    // Not fatal: a typo in LOG_LEVEL should not take the server down, but it must be seen.
    logger.warn({ LOG_LEVEL: fromEnv.invalid, valid: LEVELS }, "LOG_LEVEL is not a log level; using info");
  }
  return logger;
}

const globalForLog = globalThis as unknown as { runwatchLogger?: Logger };

/** The process's logger, cached on globalThis so `next dev` reloads do not open another stdout stream each time. */
export function rootLogger(): Logger {
  globalForLog.runwatchLogger ??= createLogger();
  return globalForLog.runwatchLogger;
}

/** A logger whose every line names the run (and variation): the fields log queries filter on. */
export function runLogger(runId: string, variationId?: string | null, parent: Logger = rootLogger()): Logger {
  return parent.child(variationId ? { run_id: runId, variation_id: variationId } : { run_id: runId });
}

/** A logger for one part of the server that is about no run in particular (Redis, the runs feed). */
export function componentLogger(component: string, parent: Logger = rootLogger()): Logger {
  return parent.child({ component });
}

/**
 * Route the process's logs to `logger` until the returned function is called: for tests that
 * check what was logged. Connections opened meanwhile keep it for their open and close lines.
 */
export function replaceRootLogger(logger: Logger): () => void {
  const previous = globalForLog.runwatchLogger;
  globalForLog.runwatchLogger = logger;
  return () => {
    globalForLog.runwatchLogger = previous;
  };
}
