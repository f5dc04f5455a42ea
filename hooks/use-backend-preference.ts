"use client";

/**
 * A per-browser choice of streaming backend, remembered in localStorage, that overrides the
 * server's NEXT_PUBLIC_STREAMING_BACKEND (as the earlier frontend allowed).
 *
 * useSyncExternalStore with a "pending" server snapshot: the page renders without a backend
 * during hydration and picks the right one right after, so it never opens a stream to the
 * wrong backend first.
 */
import { useCallback, useSyncExternalStore } from "react";
import { streamingBackendSchema, type StreamingBackend } from "@/lib/public-env";

const STORAGE_KEY = "runwatch.streamingBackend";
const CHANGED = "runwatch:backend-preference";

type Snapshot = StreamingBackend | "none" | "pending";

function subscribe(onChange: () => void): () => void {
  window.addEventListener("storage", onChange); // other tabs
  window.addEventListener(CHANGED, onChange); // this tab
  return () => {
    window.removeEventListener("storage", onChange);
    window.removeEventListener(CHANGED, onChange);
  };
}

function readPreference(): Snapshot {
  try {
    const parsed = streamingBackendSchema.safeParse(window.localStorage.getItem(STORAGE_KEY));
    return parsed.success ? parsed.data : "none";
  } catch {
    return "none"; // storage disabled: no preference
  }
}

export interface BackendPreference {
  /** undefined until read in the browser; null when there is none. */
  preference: StreamingBackend | null | undefined;
  setPreference(backend: StreamingBackend | null): void;
}

export function useBackendPreference(): BackendPreference {
  const snapshot = useSyncExternalStore<Snapshot>(subscribe, readPreference, () => "pending");
  const setPreference = useCallback((backend: StreamingBackend | null) => {
    try {
      if (backend) window.localStorage.setItem(STORAGE_KEY, backend);
      else window.localStorage.removeItem(STORAGE_KEY);
    } catch {
      // storage disabled: nothing to remember the choice in, so the server default stays
    }
    window.dispatchEvent(new Event(CHANGED));
  }, []);
  const preference = snapshot === "pending" ? undefined : snapshot === "none" ? null : snapshot;
  return { preference, setPreference };
}

/** The backend a page streams from: the browser's choice if it made one, else the server's. */
export function useStreamingBackend(serverDefault: StreamingBackend): StreamingBackend | null {
  const { preference } = useBackendPreference();
  if (preference === undefined) return null;
  return preference ?? serverDefault;
}
