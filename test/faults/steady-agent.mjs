#!/usr/bin/env node
/**
 * The fault suite's workload: a command agent (preset "steady") that writes one line to stdout
 * every <interval> ms, <ticks> times (--spec=<ticks>x<interval>), and a progress line to stderr every tenth, so a run's
 * length and event count are known in advance. No dependencies.
 */
import { parseArgs } from "node:util";

// --spec=<ticks>x<interval ms>: the fault suite passes it as the run's prompt.
const { values } = parseArgs({ options: { spec: { type: "string" } } });
const [ticks = 100, intervalMs = 50] = (values.spec ?? "").split("x").filter(Boolean).map(Number);
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
