#!/usr/bin/env node
/**
 * The fault suite's workload: a command agent (preset "steady") that writes one line to stdout
 * every --interval-ms, --ticks times, and a progress line to stderr every tenth, so a run's
 * length and event count are known in advance. No dependencies.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { ticks: { type: "string" }, "interval-ms": { type: "string" } } });
const ticks = Number(values.ticks ?? 100);
const intervalMs = Number(values["interval-ms"] ?? 50);
// Our runner was killed (the fault suite's SIGKILL): its pipe is gone, so is our purpose.
process.stdout.on("error", () => process.exit(1));
process.stderr.on("error", () => process.exit(1));

let tick = 0;
const timer = setInterval(() => {
  tick += 1;
  process.stdout.write(`tick ${tick} of ${ticks}\n`);
  if (tick % 10 === 0) process.stderr.write(`info: ${tick} ticks done\n`);
  if (tick >= ticks) clearInterval(timer);
}, intervalMs);
process.once("SIGTERM", () => process.exit(143));
