/**
 * What the demo agent "says": a deterministic function of (prompt, seed). Each variation gets
 * a different seed, so panes differ in approach, wording and pace, yet every run with the
 * same inputs is identical, which keeps tests and screenshots reproducible.
 */

export type DemoStep =
  | { kind: "log"; level: "debug" | "info" | "warn"; text: string }
  | { kind: "output"; text: string; delayMs: number }
  | { kind: "pause"; ms: number };

/** mulberry32: tiny, fast, good enough for picking words. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hashString(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return hash >>> 0;
}

const APPROACHES = [
  { title: "Start from the data model", focus: "the shape of the data" },
  { title: "Work backwards from the user", focus: "what the user sees first" },
  { title: "Smallest change that works", focus: "the least code that could possibly work" },
  { title: "Test-first", focus: "a failing test that pins the behaviour" },
  { title: "Measure, then decide", focus: "numbers from a quick benchmark" },
  { title: "Borrow a proven design", focus: "how mature projects solved it" },
];

const SENTENCES = [
  "The first thing to settle is where the state lives, because everything else follows from it.",
  "Keeping the hot path free of allocations matters more than clever algorithms here.",
  "A small, well-named function is easier to test than a large one with flags.",
  "We should make failure loud: a clear error beats a silent retry loop.",
  "Streaming the result as it is produced keeps the user informed and the memory flat.",
  "Ordering guarantees come cheaply if every message carries a sequence number.",
  "The existing tests cover the happy path, so the edge cases deserve attention now.",
  "Backpressure is the part most implementations forget until production finds it.",
  "A reader should be able to resume from where it stopped without duplicates.",
  "Configuration belongs in one place, validated once at start-up.",
  "It is worth writing the migration so that it can run twice safely.",
  "The simplest correct version is the baseline every optimisation must beat.",
];

const PLAN_STEPS = [
  "Read the relevant modules and note their contracts",
  "Write a failing test for the behaviour in the prompt",
  "Implement the change behind a small interface",
  "Run the full suite and compare timings with the baseline",
  "Document the decision and the alternatives considered",
  "Handle the error paths and make their messages actionable",
  "Remove the dead code the change leaves behind",
];

const CODE_SNIPPETS = [
  ["function chunk<T>(items: T[], size: number): T[][] {", "  const out: T[][] = [];", "  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));", "  return out;", "}"],
  ["async function withRetry<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {", "  for (let i = 1; ; i++) {", "    try { return await fn(); }", "    catch (error) { if (i >= attempts) throw error; await sleep(2 ** i * 100); }", "  }", "}"],
  ["export function assertNever(value: never): never {", "  throw new Error(`Unexpected value: ${String(value)}`);", "}"],
];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function pickSome<T>(random: () => number, items: readonly T[], count: number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (out.length < count && pool.length > 0) out.push(pool.splice(Math.floor(random() * pool.length), 1)[0] as T);
  return out;
}

export function demoMarkdown(prompt: string, seed: number): string {
  const random = seededRandom(seed);
  const approach = pick(random, APPROACHES);
  const shortPrompt = prompt.replace(/\s+/g, " ").trim().slice(0, 140);
  const paragraph = (n: number) => pickSome(random, SENTENCES, n).join(" ");
  const plan = pickSome(random, PLAN_STEPS, 3 + Math.floor(random() * 2))
    .map((step, i) => `${i + 1}. ${step}`)
    .join("\n");
  const code = pick(random, CODE_SNIPPETS).join("\n");
  return [
    `## ${approach.title}`,
    `> **Task:** ${shortPrompt}`,
    `I will approach this by focusing on ${approach.focus}. ${paragraph(3)}`,
    `### Plan\n\n${plan}`,
    `### Implementation\n\n${paragraph(2)}\n\n\`\`\`ts\n${code}\n\`\`\``,
    `### Trade-offs\n\n| Option | Cost | Benefit |\n| --- | --- | --- |\n| Keep it simple | low | easy to review |\n| Optimise now | medium | ${pick(random, ["faster hot path", "less memory", "fewer round trips"])} |`,
    `### Summary\n\n${paragraph(2)} Done.`,
  ].join("\n\n") + "\n";
}

/** Token-sized pieces: a word with its trailing whitespace, or a short run of punctuation. */
export function tokenize(markdown: string): string[] {
  return markdown.match(/\s*\S{1,8}\s*|\s+/g) ?? [];
}

/**
 * The whole performance: start-up logs, the markdown in token chunks with per-variation pace,
 * progress logs at each section. Delays are for speed 1 (a 3-variation run takes ~15-25 s).
 */
export function demoScript(prompt: string, seed: number): DemoStep[] {
  const random = seededRandom(seed ^ 0x9e3779b9);
  const markdown = demoMarkdown(prompt, seed);
  const baseDelay = 28 + Math.floor(random() * 18); // ms per token: each variation has its own pace
  const steps: DemoStep[] = [
    { kind: "log", level: "info", text: `Demo agent starting (seed ${seed})` },
    { kind: "log", level: "debug", text: `Prompt is ${prompt.length} characters` },
    { kind: "pause", ms: 600 + Math.floor(random() * 600) },
    { kind: "log", level: "info", text: "Thinking about an approach" },
  ];
  const headings = [...markdown.matchAll(/^#+ (.+)$/gm)].map((match) => match[1]);
  tokenize(markdown).forEach((token) => {
    // Heading markers ("## ") come in the same order as the headings they start.
    if (/^\s*#+\s*$/.test(token)) {
      const heading = headings.shift();
      if (heading) steps.push({ kind: "log", level: "info", text: `Writing section "${heading}"` });
    }
    const jitter = Math.floor(random() * baseDelay);
    steps.push({ kind: "output", text: token, delayMs: baseDelay + jitter });
  });
  steps.push({ kind: "log", level: "info", text: "Finished writing" });
  return steps;
}
