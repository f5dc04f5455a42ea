/**
 * What a variation's downloads contain. Pure, so the files are unit-tested; the browser side
 * only wraps them in a Blob.
 */
import type { LogLine } from "./stream-state";

export function outputFileName(runId: string, variationId: string): string {
  return `${runId}-${variationId}.md`;
}

export function logsFileName(runId: string, variationId: string, format: "text" | "jsonl"): string {
  return `${runId}-${variationId}.${format === "text" ? "log" : "jsonl"}`;
}

/**
 * One line per log line: "<ISO time> <LEVEL> <text>", as a terminal would show it; colour codes
 * are kept (`less -R` shows them). The JSON lines keep them too: they are what the agent wrote.
 */
export function logsAsText(logs: readonly LogLine[]): string {
  return logs.map((l) => `${l.timestamp} ${l.level.toUpperCase()} ${l.text}\n`).join("");
}

/** One JSON object per line, for jq and friends. */
export function logsAsJsonLines(logs: readonly LogLine[]): string {
  return logs.map((l) => `${JSON.stringify({ timestamp: l.timestamp, level: l.level, sequence: l.sequence, text: l.text })}\n`).join("");
}
