import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ApiError } from "./errors";
import { expandCommand, expandEnv, parsePresets } from "./presets";

const SHIPPED = fileURLToPath(new URL("../runwatch.presets.jsonc", import.meta.url));
const shipped = () => fs.readFileSync(SHIPPED, "utf8");

/** The shipped file with its commented-out presets enabled: lines of JSON after `//`, not prose. */
const uncommentPresets = (text: string) => text.replace(/^(\s+)\/\/ (\{|\},?|\s+".*)$/gm, "$1$2");
/** A stand-in for the server's environment (Next types NODE_ENV as always set). */
const serverEnvWith = (vars: Record<string, string>): NodeJS.ProcessEnv => ({ NODE_ENV: "test", ...vars });

describe("the shipped runwatch.presets.jsonc", () => {
  it("parses, with the echo command agent over Redis and HTTP and the demo over HTTP", () => {
    const presets = parsePresets(shipped(), SHIPPED);
    expect(presets.map((p) => [p.name, p.transport, p.command ?? null])).toEqual([
      ["echo", "redis", ["node", "examples/echo-agent.mjs", "--prompt={prompt}"]],
      ["echo-http", "http", ["node", "examples/echo-agent.mjs", "--prompt={prompt}"]],
      ["demo-http", "http", null],
    ]);
    expect(presets[0]).toMatchObject({ env: {}, stop_grace_seconds: 5 });
    expect(presets[2]).toMatchObject({ stop_grace_seconds: 10 }); // the default
    expect(fs.statSync(fileURLToPath(new URL("../examples/echo-agent.mjs", import.meta.url))).mode & 0o111).not.toBe(0);
  });

  it("still parses with the commented-out coding-agent presets enabled", () => {
    const enabled = uncommentPresets(shipped());
    expect(enabled).not.toBe(shipped());
    const presets = parsePresets(enabled, SHIPPED);
    expect(presets.map((p) => p.name)).toEqual(["echo", "echo-http", "demo-http", "claude-code", "codex"]);
    expect(presets[3]).toMatchObject({
      command: ["claude", "-p", "--output-format", "text", "--", "{prompt}"],
      env: { ANTHROPIC_API_KEY: "${ANTHROPIC_API_KEY}" },
      transport: "redis",
    });
    expect(presets[4]?.command).toEqual(["codex", "exec", "--sandbox", "read-only", "--", "{prompt}"]);
  });
});

describe("parsePresets", () => {
  it("names the file and the problem when the text is not JSON with comments", () => {
    expect(() => parsePresets('{"presets": [ {"name": "x",, } ]}', "bad.jsonc")).toThrow(/^bad\.jsonc: not valid JSON with comments \(\w+ at offset \d+\)$/);
  });

  it("rejects a preset that breaks the schema, naming the field", () => {
    expect(() => parsePresets('{"presets": [{"name": "x", "transport": "carrier-pigeon"}]}', "p.jsonc")).toThrow(/^p\.jsonc: .*transport/);
    expect(() => parsePresets('{"presets": [{"name": "Has Spaces"}]}', "p.jsonc")).toThrow(/^p\.jsonc: .*name/);
    expect(() => parsePresets('{"presets": [{"name": "x", "command": []}]}', "p.jsonc")).toThrow(/^p\.jsonc: .*command/);
  });

  it("rejects a name given twice or one that shadows the built-in demo", () => {
    expect(() => parsePresets('{"presets": [{"name": "a"}, {"name": "a"}]}', "p.jsonc")).toThrow('p.jsonc: preset "a" is defined twice');
    expect(() => parsePresets('{"presets": [{"name": "demo"}]}', "p.jsonc")).toThrow('preset "demo" is defined twice (or shadows the built-in demo)');
  });
});

describe("expandCommand", () => {
  const context = { prompt: "fix the 'login' bug; rm -rf / {run_id}", runId: "run-0123456789ab", variationId: "var-2" };

  it("replaces the placeholders and keeps each argument one argument", () => {
    expect(expandCommand(["agent", "--prompt", "{prompt}", "--tag={run_id}/{variation_id}", "{unknown}"], context)).toEqual([
      "agent",
      "--prompt",
      "fix the 'login' bug; rm -rf / {run_id}", // the prompt's own braces are not expanded again
      "--tag=run-0123456789ab/var-2",
      "{unknown}",
    ]);
  });
});

describe("expandEnv", () => {
  it("takes ${NAME} from the given environment and leaves other text alone", () => {
    const env = expandEnv({ KEY: "${SECRET}", URL: "https://${HOST}:${PORT}/v1", PLAIN: "$HOME and {prompt}" }, serverEnvWith({ SECRET: "s3cr3t", HOST: "example.test", PORT: "8443" }), "p");
    expect(env).toEqual({ KEY: "s3cr3t", URL: "https://example.test:8443/v1", PLAIN: "$HOME and {prompt}" });
  });

  it("refuses an unset variable with a 400 naming the preset, the variable and the key", () => {
    let error: unknown;
    try {
      expandEnv({ ANTHROPIC_API_KEY: "${ANTHROPIC_API_KEY}" }, serverEnvWith({}), "claude-code");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).message).toBe('agent: preset "claude-code" needs ${ANTHROPIC_API_KEY} in ANTHROPIC_API_KEY, and the server\'s environment does not set it');
  });
});
