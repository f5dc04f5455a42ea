"use client";

import { useEffect, useEffectEvent } from "react";

/** Fired on a pane's element by `f`; the pane toggles its follow mode. */
export const TOGGLE_FOLLOW_EVENT = "runwatch:toggle-follow";

/**
 * Keyboard on the run page: `j`/`k` select the next/previous variation, `f` toggles follow on
 * the selected one, `/` focuses its log search. Keys typed into a field, or with a modifier,
 * are left alone.
 */
export function useRunKeys(order: readonly string[], selected: string | null, select: (id: string) => void): void {
  const onKey = useEffectEvent((event: KeyboardEvent) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target as HTMLElement | null;
    if (target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName))) return;
    if (order.length === 0) return;
    const index = selected ? order.indexOf(selected) : -1;
    const pane = (id: string) => document.querySelector<HTMLElement>(`[data-testid="variation-pane"][data-variation-id="${id}"]`);
    if (event.key === "j" || event.key === "k") {
      const next = order[event.key === "j" ? Math.min(order.length - 1, index + 1) : Math.max(0, index < 0 ? 0 : index - 1)]!;
      select(next);
      const element = pane(next);
      element?.focus({ preventScroll: true });
      element?.scrollIntoView({ block: "nearest" });
    } else if (event.key === "f" && selected) {
      pane(selected)?.dispatchEvent(new CustomEvent(TOGGLE_FOLLOW_EVENT));
    } else if (event.key === "/" && selected) {
      event.preventDefault(); // not a "/" typed into the search box
      pane(selected)?.querySelector<HTMLInputElement>('[data-testid="log-search"]')?.focus();
    }
  });
  useEffect(() => {
    const listener = (event: KeyboardEvent) => onKey(event);
    window.addEventListener("keydown", listener);
    return () => window.removeEventListener("keydown", listener);
  }, []);
}
