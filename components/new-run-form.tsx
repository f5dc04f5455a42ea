"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import useSWR from "swr";
import { z } from "zod";
import { useBackendPreference } from "@/hooks/use-backend-preference";
import { fetchJson } from "@/hooks/use-runs";
import { createRunResponseSchema, DEMO_PRESET, MAX_VARIATIONS } from "@/lib/events";
import { BACKEND_LABELS, STREAMING_BACKENDS, streamingBackendSchema, type StreamingBackend } from "@/lib/public-env";
import { apiUrls } from "@/lib/urls";

const DEFAULT_PROMPT = "Add retry with exponential backoff to our HTTP client, with tests.";

const presetsSchema = z.object({
  presets: z.array(z.object({ name: z.string(), description: z.string().nullable(), kind: z.string(), transport: z.string() })),
});
type PresetSummary = z.infer<typeof presetsSchema>["presets"][number];

function PresetOptions({ names }: { names: readonly string[] }) {
  return names.map((name) => (
    <option key={name} value={name}>
      {name}
    </option>
  ));
}

function usePresets() {
  return useSWR<PresetSummary[], Error>(apiUrls.presets(), async (url: string) => presetsSchema.parse(await fetchJson(url)).presets);
}

/** `serverBackend`: the server's NEXT_PUBLIC_STREAMING_BACKEND, shown as the default choice. */
export function NewRunForm({ serverBackend }: { serverBackend: StreamingBackend }) {
  const router = useRouter();
  const { preference, setPreference } = useBackendPreference();
  const [prompt, setPrompt] = useState(DEFAULT_PROMPT);
  // One preset per variation: a run may mix them, which is the point of comparing.
  const [agents, setAgents] = useState<string[]>([DEMO_PRESET, DEMO_PRESET, DEMO_PRESET]);
  const presets = usePresets();
  const presetNames = presets.data?.map((p) => p.name) ?? [DEMO_PRESET];
  const mixed = agents.some((a) => a !== agents[0]);
  const setCount = (n: number) => setAgents((current) => Array.from({ length: n }, (_, i) => current[i] ?? current[current.length - 1] ?? DEMO_PRESET));
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitting(true);
    setError(null);
    try {
      const response = await fetch(apiUrls.runs(), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ prompt, agents }),
      });
      const body: unknown = await response.json().catch(() => null);
      if (!response.ok) {
        const message = (body as { error?: { message?: string } } | null)?.error?.message;
        throw new Error(message ?? `The server answered ${response.status}`);
      }
      router.push(`/runs/${createRunResponseSchema.parse(body).run_id}`);
    } catch (cause) {
      setError(`Could not start the run: ${(cause as Error).message}`);
      setSubmitting(false);
    }
  }

  const field = "w-full min-w-0 rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-950";
  return (
    <form onSubmit={submit} className="space-y-3" data-testid="new-run-form">
      <label className="block text-sm font-medium">
        Prompt
        <textarea
          name="prompt"
          required
          rows={4}
          value={prompt}
          onChange={(e) => setPrompt(e.target.value)}
          className={`${field} mt-1`}
          data-testid="prompt-input"
        />
      </label>
      <div className="grid grid-cols-2 gap-3">
        <label className="block text-sm font-medium">
          Variations
          <select
            name="variations"
            value={agents.length}
            onChange={(e) => setCount(Number(e.target.value))}
            className={`${field} mt-1`}
            data-testid="variations-select"
          >
            {Array.from({ length: MAX_VARIATIONS }, (_, i) => i + 1).map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label className="block text-sm font-medium">
          Agent
          <select
            name="agent"
            value={mixed ? "" : agents[0]}
            onChange={(e) => e.target.value && setAgents((current) => current.map(() => e.target.value))}
            className={`${field} mt-1`}
            data-testid="agent-select"
          >
            {mixed && <option value="">mixed (see below)</option>}
            <PresetOptions names={presetNames} />
          </select>
        </label>
      </div>
      {presets.error && (
        <p role="alert" className="text-xs text-amber-700 dark:text-amber-300" data-testid="presets-error">
          Could not load the agent presets ({presets.error.message}); only the demo agent is offered.
        </p>
      )}
      <details className="text-sm" data-testid="per-variation-agents" open={mixed || undefined}>
        <summary className="cursor-pointer font-medium text-zinc-700 dark:text-zinc-300">Agent per variation</summary>
        <div className="mt-2 grid gap-2 sm:grid-cols-2">
          {agents.map((agent, i) => (
            <label key={i} className="block text-xs font-medium">
              var-{i + 1}
              <select
                value={agent}
                onChange={(e) => setAgents((current) => current.map((a, j) => (j === i ? e.target.value : a)))}
                className={`${field} mt-1`}
                data-testid={`variation-agent-select-${i + 1}`}
              >
                <PresetOptions names={presetNames} />
              </select>
            </label>
          ))}
        </div>
        {presets.data && (
          <ul className="mt-2 space-y-0.5 text-xs text-zinc-500">
            {presets.data.map((p) => (
              <li key={p.name}>
                <span className="font-mono">{p.name}</span>: {p.description ?? (p.kind === "command" ? "runs a command" : "demo agent")}
                {p.transport === "http" ? " (over HTTP)" : ""}
              </li>
            ))}
          </ul>
        )}
      </details>
      <details className="text-sm" data-testid="advanced-options">
        <summary className="cursor-pointer font-medium text-zinc-700 dark:text-zinc-300">Advanced</summary>
        <label className="mt-2 block text-sm font-medium">
          Streaming backend (this browser)
          <select
            name="backend"
            value={preference ?? "server"}
            onChange={(e) => {
              const parsed = streamingBackendSchema.safeParse(e.target.value);
              setPreference(parsed.success ? parsed.data : null);
            }}
            className={`${field} mt-1`}
            data-testid="backend-select"
          >
            <option value="server">Server default ({BACKEND_LABELS[serverBackend]})</option>
            {STREAMING_BACKENDS.map((backend) => (
              <option key={backend} value={backend}>
                {BACKEND_LABELS[backend]}
              </option>
            ))}
          </select>
          <span className="mt-1 block text-xs font-normal text-zinc-500">
            Remembered in this browser; run pages stream from it instead of the server&apos;s NEXT_PUBLIC_STREAMING_BACKEND.
          </span>
        </label>
      </details>
      {error && (
        <p role="alert" className="text-sm text-red-600 dark:text-red-400">
          {error}
        </p>
      )}
      <button
        type="submit"
        disabled={submitting}
        className="w-full rounded-md bg-blue-600 px-3 py-2 text-sm font-medium text-white hover:bg-blue-700 disabled:opacity-60"
        data-testid="start-run"
      >
        {submitting ? "Starting…" : "Start run"}
      </button>
    </form>
  );
}
