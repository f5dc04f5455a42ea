"use client";

/**
 * Pause, resume and stop from the run page. A control is "pending" from the click until every
 * variation it was sent to acknowledges it on the run's stream (a status carrying its
 * control_id), or finishes; if that takes longer than the server's CONTROL_ACK_TIMEOUT_MS the
 * page says which agent did not answer instead of waiting forever.
 */
import { useCallback, useEffect, useMemo, useState } from "react";
import { controlResponseSchema, isTerminal, type ControlAction } from "@/lib/events";
import type { VariationState } from "@/lib/stream-state";
import { apiUrls } from "@/lib/urls";

interface PendingControl {
  controlId: string | null;
  action: ControlAction;
  /** Variations still to acknowledge. */
  waiting: string[];
  sentAt: number;
}

export interface VariationControlState {
  pending: ControlAction | null;
  failure: string | null;
}

export interface RunControl {
  send: (action: ControlAction, variationId?: string) => Promise<void>;
  of: (variationId: string) => VariationControlState;
  /** A control the server refused (409, 404, Redis down), for the run as a whole. */
  error: string | null;
}

/** Variations of `p` that have neither acknowledged it nor finished. */
function stillWaiting(p: PendingControl, variations: Record<string, VariationState>): string[] {
  if (!p.controlId) return p.waiting;
  return p.waiting.filter((id) => {
    const v = variations[id];
    return !(v && (v.acks.includes(p.controlId!) || isTerminal(v.status ?? undefined)));
  });
}

export function useRunControl(runId: string, variations: Record<string, VariationState>, ackTimeoutMs: number): RunControl {
  const [sent, setSent] = useState<PendingControl[]>([]);
  const [failures, setFailures] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  // Derived, not stored: an acknowledgement on the stream ends the wait by itself.
  const pending = useMemo(
    () => sent.map((p) => ({ ...p, waiting: stillWaiting(p, variations) })).filter((p) => p.waiting.length > 0),
    [sent, variations],
  );

  // A control still unanswered after the timeout is reported per variation, and given up.
  useEffect(() => {
    const timed = pending.filter((p) => p.controlId);
    if (timed.length === 0) return;
    const soonest = Math.min(...timed.map((p) => p.sentAt + ackTimeoutMs));
    const timer = setTimeout(() => {
      const now = Date.now();
      const expired = timed.filter((p) => p.sentAt + ackTimeoutMs <= now);
      setFailures((f) => {
        const next = { ...f };
        for (const p of expired) {
          for (const id of p.waiting) {
            next[id] = `${id} did not acknowledge "${p.action}" within ${Math.round(ackTimeoutMs / 1000)} s: its agent may be unresponsive or unable to reach Runwatch. It may still act on it later.`;
          }
        }
        return next;
      });
      const gaveUp = new Set(expired.map((p) => p.controlId));
      setSent((current) => current.filter((p) => !gaveUp.has(p.controlId)));
    }, Math.max(0, soonest - Date.now()));
    return () => clearTimeout(timer);
  }, [pending, ackTimeoutMs]);

  const send = useCallback(
    async (action: ControlAction, variationId?: string) => {
      setError(null);
      const targets = variationId ? [variationId] : Object.keys(variations);
      setFailures((f) => {
        const next = { ...f };
        for (const id of targets) delete next[id];
        return next;
      });
      // Shown as pending from the click; the control id arrives with the answer.
      const placeholder: PendingControl = { controlId: null, action, waiting: targets, sentAt: Date.now() };
      // Controls nobody waits on any more are dropped as new ones are sent.
      setSent((current) => [...current.filter((p) => stillWaiting(p, variations).length > 0), placeholder]);
      try {
        const response = await fetch(apiUrls.control(runId), {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(variationId ? { action, variation_id: variationId } : { action }),
        });
        const body: unknown = await response.json().catch(() => null);
        if (!response.ok) {
          const message = (body as { error?: { message?: string } } | null)?.error?.message;
          throw new Error(message ?? `the server answered ${response.status}`);
        }
        const answer = controlResponseSchema.parse(body);
        setSent((p) => p.map((x) => (x === placeholder ? { controlId: answer.control_id, action, waiting: answer.variation_ids, sentAt: Date.now() } : x)));
      } catch (cause) {
        setSent((p) => p.filter((x) => x !== placeholder));
        setError(`Could not ${action} ${variationId ?? "the run"}: ${(cause as Error).message}`);
      }
    },
    [runId, variations],
  );

  const of = useCallback(
    (variationId: string): VariationControlState => {
      const latest = [...pending].reverse().find((p) => p.waiting.includes(variationId));
      return { pending: latest?.action ?? null, failure: failures[variationId] ?? null };
    },
    [pending, failures],
  );

  return { send, of, error };
}
