"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { apiUrls } from "@/lib/urls";

/**
 * Trades a viewer or admin token for the httpOnly session cookie (POST /api/v1/session), then
 * goes on to `next`. The token is sent once and never kept in the page.
 */
export function SignInForm({ next }: { next: string }) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitting(true);
    setError(null);
    try {
      const response = await fetch(apiUrls.session(), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token }),
      });
      if (response.ok) {
        window.location.assign(next);
        return;
      }
      const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
      setError(body?.error?.message ?? `Sign-in failed (HTTP ${response.status})`);
    } catch (cause) {
      setError(`Could not reach the server: ${(cause as Error).message}`);
    }
    setSubmitting(false);
  }

  return (
    <form onSubmit={submit} className="space-y-3" data-testid="sign-in-form">
      <label className="block text-sm font-medium">
        Token
        <input
          type="password"
          autoComplete="current-password"
          required
          value={token}
          onChange={(event) => setToken(event.target.value)}
          className="mt-1 w-full min-w-0 rounded-md border border-zinc-300 bg-white px-3 py-2 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-950"
          data-testid="sign-in-token"
        />
      </label>
      {error && (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400" data-testid="sign-in-error">
          {error}
        </p>
      )}
      <button
        type="submit"
        disabled={submitting}
        className="w-full rounded-md bg-blue-600 px-3 py-2 text-sm font-medium text-white hover:bg-blue-700 disabled:opacity-60"
        data-testid="sign-in-submit"
      >
        {submitting ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}

/** Clears the session cookie and goes to the sign-in page. */
export function SignOutButton() {
  const router = useRouter();
  return (
    <button
      type="button"
      onClick={() =>
        void fetch(apiUrls.session(), { method: "DELETE" }).finally(() => {
          router.push("/signin");
          router.refresh();
        })
      }
      className="rounded-md border border-zinc-300 px-2 py-0.5 text-xs font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
      data-testid="sign-out"
    >
      Sign out
    </button>
  );
}
