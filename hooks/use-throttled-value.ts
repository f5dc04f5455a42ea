"use client";

import { startTransition, useEffect, useRef, useState } from "react";

/**
 * `value`, changing at most once per `intervalMs`, always to the newest value, in a transition.
 *
 * For a view whose every render costs time in proportion to all it holds (a virtualised list of
 * 100,000 log lines recomputes every offset when its count changes): fed at 60 batches a second,
 * it spent most of the main thread on renders no one could read. A change after a quiet spell
 * shows at once (in the next task).
 */
export function useThrottledValue<T>(value: T, intervalMs: number): T {
  const [shown, setShown] = useState(value);
  /** When `shown` last changed (performance.now()). */
  const shownAt = useRef(-Infinity);
  useEffect(() => {
    if (Object.is(value, shown)) return;
    const timer = setTimeout(
      () => {
        shownAt.current = performance.now();
        startTransition(() => setShown(value));
      },
      Math.max(0, shownAt.current + intervalMs - performance.now()),
    );
    return () => clearTimeout(timer);
  }, [value, shown, intervalMs]);
  return shown;
}
