"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useBackendPreference } from "@/hooks/use-backend-preference";
import { AGENTS, createRunResponseSchema, MAX_VARIATIONS } from "@/lib/events";
import { BACKEND_LABELS, STREAMING_BACKENDS, streamingBackendSchema, type StreamingBackend } from "@/lib/public-env";
import { apiUrls } from "@/lib/urls";

const DEFAULT_PROMPT = "Add retry with exponential backoff to our HTTP client, with tests.";

/** `serverBackend`: the server's NEXT_PUBLIC_STREAMING_BACKEND, shown as the default choice. */
export function NewRunForm({ serverBackend }: { serverBackend: StreamingBackend }) {
  const router = useRouter();
  const { preference, setPreference } = useBackendPreference();
  const [prompt, setPrompt] = useState(DEFAULT_PROMPT);
  const [variations, setVariations] = useState(3);
  const [agent, setAgent] = useState<(typeof AGENTS)[number]>("demo");
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
        body: JSON.stringify({ prompt, variations, agent }),
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

  const field = "w-full rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-950";
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
            value={variations}
            onChange={(e) => setVariations(Number(e.target.value))}
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
            value={agent}
            onChange={(e) => setAgent(e.target.value as (typeof AGENTS)[number])}
            className={`${field} mt-1`}
            data-testid="agent-select"
          >
            {AGENTS.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
      </div>
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
