"use client";

import { useEffect, useRef, useState } from "react";

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** Time from `from` to `to`, or to now (ticking each second) while `to` is null. */
export function Elapsed({ from, to, testId }: { from: string | null; to: string | null; testId?: string }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (to || !from) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [from, to]);
  if (!from) return null;
  const end = to ? Date.parse(to) : now;
  return (
    <span className="tabular-nums" data-testid={testId} title={to ? `from ${from} to ${to}` : `since ${from}`}>
      {formatDuration(end - Date.parse(from))}
    </span>
  );
}

/** Messages per second while a variation is live, sampled each second from its sequence. */
export function EventRate({ sequence, live }: { sequence: number; live: boolean }) {
  const [rate, setRate] = useState<number | null>(null);
  const latest = useRef(sequence);
  useEffect(() => {
    latest.current = sequence;
  }, [sequence]);
  useEffect(() => {
    if (!live) return;
    let previous = { sequence: latest.current, at: Date.now() };
    const timer = setInterval(() => {
      const now = { sequence: latest.current, at: Date.now() };
      setRate(((now.sequence - previous.sequence) * 1000) / Math.max(1, now.at - previous.at));
      previous = now;
    }, 1_000);
    return () => clearInterval(timer);
  }, [live]);
  if (!live || rate === null) return null;
  return (
    <span className="tabular-nums" data-testid="event-rate" title="messages per second">
      {rate.toFixed(rate < 10 ? 1 : 0)}/s
    </span>
  );
}
