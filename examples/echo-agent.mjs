#!/usr/bin/env node
/**
 * A stand-in coding agent for Runwatch's `command` agent (preset "echo" in
 * runwatch.presets.jsonc). It calls no model: it writes a markdown answer about its prompt to
 * stdout a few words at a time, the way a real agent CLI streams, and progress lines to stderr,
 * which Runwatch shows as logs (the `info:` / `warn:` / `error:` prefix becomes the level).
 *
 *   node examples/echo-agent.mjs --prompt "Add a health check" [--delay-ms 40] [--lines 3] [--fail-with N]
 *
 *   --delay-ms N   pause between writes (default 40)
 *   --lines N      steps in the answer's list (default 3)
 *   --fail-with N  stop half-way with an error on stderr and exit code N
 *
 * Its output depends only on its arguments, so a test can run it directly and compare. It
 * keeps working across SIGSTOP/SIGCONT (timers simply fire late) and exits at once on SIGTERM,
 * as Runwatch's stop expects. No dependencies: copy it anywhere Node runs.
 */
import { parseArgs } from "node:util";

const STEPS = [
  "Read the request and restate it in one sentence",
  "Find the files it concerns",
  "Sketch a plan before touching anything",
  "Write the change in small commits",
  "Run the tests and fix what breaks",
  "Summarise what changed and why",
];

function usage(problem) {
  process.stderr.write(`error: ${problem}\nusage: echo-agent.mjs --prompt <text> [--delay-ms N] [--lines N] [--fail-with N]\n`);
  process.exit(2);
}

function readOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        prompt: { type: "string" },
        "delay-ms": { type: "string", default: "40" },
        lines: { type: "string", default: "3" },
        "fail-with": { type: "string" },
      },
    }));
  } catch (error) {
    usage(error.message);
  }
  const count = (name, min, max) => {
    const text = values[name];
    const n = Number(text);
    if (!/^\d+$/.test(text ?? "") || n < min || n > max) usage(`--${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
  if (values.prompt === undefined) usage("--prompt is required");
  return {
    prompt: values.prompt,
    delayMs: count("delay-ms", 0, 60_000),
    lines: count("lines", 1, 10_000),
    failWith: values["fail-with"] === undefined ? null : count("fail-with", 1, 255),
  };
}

/** The answer in parts; stderr progress lines go between them. */
function answer(prompt, lines) {
  const title = prompt.split("\n")[0].slice(0, 60) || "(empty prompt)";
  const steps = Array.from({ length: lines }, (_, i) => `${i + 1}. ${STEPS[i % STEPS.length]} (step ${i + 1} of ${lines}).\n`);
  return {
    heading: `# Echo: ${title}\n\nYou asked — in ${prompt.length} characters — for this:\n\n> ${prompt.split("\n").join("\n> ")}\n\nHere is what a coding agent would do:\n\n`,
    steps,
    code: [
      "```js\n",
      "// What the echo agent was asked; it calls no model.\n",
      `const prompt = ${JSON.stringify(prompt)};\n`,
      "console.log(prompt.length);\n",
      "```\n",
      "\nDone ✅ — written by `examples/echo-agent.mjs`.\n",
    ].join(""),
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `text` a few words at a time; the pieces concatenate back to exactly `text`. */
async function stream(text, delayMs) {
  const words = text.match(/\S+\s*|\s+/g) ?? [];
  for (let i = 0; i < words.length; i += 3) {
    process.stdout.write(words.slice(i, i + 3).join(""));
    await sleep(delayMs);
  }
}

const log = (line) => process.stderr.write(`${line}\n`);

async function main() {
  const options = readOptions();
  const parts = answer(options.prompt, options.lines);
  log(`info: thinking about the prompt (${options.prompt.length} characters)…`);
  await sleep(options.delayMs);
  await stream(parts.heading, options.delayMs);
  log("warn: this is the echo agent: it calls no model and changes no files");
  for (const [i, step] of parts.steps.entries()) {
    log(`info: step ${i + 1} of ${options.lines}`);
    await stream(step, options.delayMs);
  }
  if (options.failWith !== null) {
    log(`error: giving up on purpose (--fail-with ${options.failWith})`);
    process.exit(options.failWith);
  }
  await stream(`\n${parts.code}`, options.delayMs);
  log("info: done");
}

// Runwatch stops an agent with SIGTERM and kills it after a grace period; leave promptly.
process.on("SIGTERM", () => {
  log("stopping on SIGTERM");
  process.exit(143);
});

await main();
