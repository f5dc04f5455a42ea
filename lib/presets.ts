/**
 * Agent presets: what a variation runs. `demo` is built in; the others come from a presets
 * file (RUNWATCH_PRESETS_FILE, default ./runwatch.presets.jsonc: JSON with comments, so a
 * preset can be explained where it is written). Read on every use, so editing the file needs no
 * restart, and a broken file is reported by name rather than crashing the server.
 *
 * A command preset runs any program per variation through the agent runner (agent/cli.ts):
 * its stdout becomes the variation's output, its stderr its logs, its exit code the final
 * status. `{prompt}`, `{run_id}` and `{variation_id}` in the command's arguments are replaced
 * (each argument stays one argument: no shell is involved). `${NAME}` in an env value is taken
 * from the server's environment, so a preset can hand an agent its API key without the key
 * being written in the file.
 */
import "server-only";
import fs from "node:fs";
import path from "node:path";
import { parse as parseJsonc, printParseErrorCode, type ParseError } from "jsonc-parser";
import { z } from "zod";
import { serverEnv } from "./env";
import { ApiError, describeZodError } from "./errors";
import { DEMO_PRESET, presetNameSchema } from "./events";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const presetSchema = z.object({
  name: presetNameSchema,
  description: z.string().max(500).optional(),
  /** argv of the agent program; absent means the built-in demo agent. */
  command: z.array(z.string()).min(1).optional(),
  env: z.record(z.string().regex(ENV_NAME, "must be an environment variable name"), z.string()).default({}),
  /** Working directory of the command (relative to the server's). */
  cwd: z.string().optional(),
  /**
   * How the runner reaches Runwatch: straight to Redis, or over HTTP with the run's agent token
   * (for agents that cannot reach Redis; see README, "Agents over HTTP").
   */
  transport: z.enum(["redis", "http"]).default("redis"),
  /** Seconds between SIGTERM and SIGKILL when a command agent is stopped. */
  stop_grace_seconds: z.number().positive().max(300).default(10),
});
export type Preset = z.infer<typeof presetSchema>;

const presetsFileSchema = z.object({ presets: z.array(presetSchema) });

/** The one preset that needs no file. */
export const DEMO: Preset = {
  name: DEMO_PRESET,
  description: "Built-in demo agent: plays a scripted answer with logs and metrics",
  env: {},
  transport: "redis",
  stop_grace_seconds: 10,
};

/** What the new-run form and GET /api/v1/presets show; no env values (they may hold secrets). */
export interface PresetSummary {
  name: string;
  description: string | null;
  kind: "demo" | "command";
  transport: "redis" | "http";
}

export function summarise(preset: Preset): PresetSummary {
  return { name: preset.name, description: preset.description ?? null, kind: preset.command ? "command" : "demo", transport: preset.transport };
}

export function presetsFilePath(): string {
  return path.resolve(serverEnv().RUNWATCH_PRESETS_FILE);
}

/** Parse a presets file's text; throws an Error naming the file and what is wrong. */
export function parsePresets(text: string, file: string): Preset[] {
  const errors: ParseError[] = [];
  const json: unknown = parseJsonc(text, errors, { allowTrailingComma: true });
  if (errors.length > 0) {
    const first = errors[0]!;
    throw new Error(`${file}: not valid JSON with comments (${printParseErrorCode(first.error)} at offset ${first.offset})`);
  }
  const result = presetsFileSchema.safeParse(json);
  if (!result.success) throw new Error(`${file}: ${describeZodError(result.error)}`);
  const names = new Set<string>([DEMO_PRESET]);
  for (const preset of result.data.presets) {
    if (names.has(preset.name)) throw new Error(`${file}: preset "${preset.name}" is defined twice (or shadows the built-in demo)`);
    names.add(preset.name);
  }
  return result.data.presets;
}

/** Every preset: the demo first, then the file's in its order. A missing file is no error. */
export function loadPresets(): Preset[] {
  const file = presetsFilePath();
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [DEMO];
    throw new ApiError("internal", `Could not read the presets file ${file}: ${(error as Error).message}`);
  }
  try {
    // Demo variants (no command) may set a transport: the demo agent over HTTP, for instance.
    return [DEMO, ...parsePresets(text, file)];
  } catch (error) {
    throw new ApiError("internal", `The presets file is invalid: ${(error as Error).message}`);
  }
}

/** The presets of a new run, by name; 400 naming the unknown ones and what exists. */
export function resolvePresets(names: readonly string[]): Preset[] {
  const all = new Map(loadPresets().map((p) => [p.name, p]));
  const unknown = [...new Set(names.filter((name) => !all.has(name)))];
  if (unknown.length > 0) {
    throw new ApiError("bad_request", `agent: unknown preset ${unknown.map((n) => `"${n}"`).join(", ")}; known presets: ${[...all.keys()].join(", ")}`);
  }
  return names.map((name) => all.get(name)!);
}

export interface PresetContext {
  prompt: string;
  runId: string;
  variationId: string;
}

/** The command's argv with placeholders replaced; each argument stays one argument. */
export function expandCommand(command: readonly string[], context: PresetContext): string[] {
  return command.map((arg) =>
    arg.replace(/\{(prompt|run_id|variation_id)\}/g, (_, key: string) =>
      key === "prompt" ? context.prompt : key === "run_id" ? context.runId : context.variationId,
    ),
  );
}

/** Env values with ${NAME} taken from `from` (the server's environment); unset names are an error. */
export function expandEnv(env: Record<string, string>, from: NodeJS.ProcessEnv, presetName: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    out[name] = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, ref: string) => {
      const resolved = from[ref];
      if (resolved === undefined) throw new ApiError("bad_request", `agent: preset "${presetName}" needs \${${ref}} in ${name}, and the server's environment does not set it`);
      return resolved;
    });
  }
  return out;
}
