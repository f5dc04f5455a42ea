"use client";

import { useCallback, useLayoutEffect, useRef } from "react";

/** How close to the bottom (px) still counts as "reading the latest". */
const NEAR_BOTTOM_PX = 48;

/**
 * Keeps a scroll container pinned to its bottom while content grows, unless the user has
 * scrolled up to read: then it leaves the scroll position alone.
 */
export function useStickToBottom<T extends HTMLElement>(contentVersion: unknown) {
  const ref = useRef<T | null>(null);
  const pinned = useRef(true);

  const onScroll = useCallback(() => {
    const el = ref.current;
    if (!el) return;
    pinned.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
  }, []);

  useLayoutEffect(() => {
    const el = ref.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [contentVersion]);

  return { ref, onScroll };
}
