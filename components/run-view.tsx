"use client";

import { useState } from "react";
import { useAgentStream } from "@/hooks/use-agent-stream";
import { useStreamingBackend } from "@/hooks/use-backend-preference";
import { useRunControl } from "@/hooks/use-run-control";
import { useRunKeys } from "@/hooks/use-run-keys";
import { useRun } from "@/hooks/use-runs";
import { cn } from "@/lib/cn";
import { isTerminal } from "@/lib/events";
import type { StreamingBackend } from "@/lib/public-env";
import { BackendBadge } from "./backend-badge";
import { CompareView } from "./compare-view";
import { Elapsed } from "./elapsed";
import { ConnectionIndicator } from "./connection-indicator";
import { RunControls, VariationControls } from "./control-buttons";
import { VariationPane } from "./variation-pane";
import { SelectWinnerButton } from "./winner-select";

/** When the last variation finished (the agents' clocks), if any did. */
function lastEnd(times: (string | null)[]): string | null {
  return times.reduce<string | null>((latest, t) => (t && (!latest || Date.parse(t) > Date.parse(latest)) ? t : latest), null);
}

/**
 * `serverBackend`: NEXT_PUBLIC_STREAMING_BACKEND as the server read it; the browser may override
 * it. `ackTimeoutMs`: how long a pause/resume/stop may wait for its acknowledgement.
 * `canControl`: the visitor is an admin (or sign-in is off); a viewer gets no buttons that
 * could only answer 403.
 */
export function RunView({
  runId,
  serverBackend,
  ackTimeoutMs,
  canControl,
}: {
  runId: string;
  serverBackend: StreamingBackend;
  ackTimeoutMs: number;
  canControl: boolean;
}) {
  const { data: run, error, mutate } = useRun(runId);
  const backend = useStreamingBackend(serverBackend);
  const stream = useAgentStream(runId, { backend, variations: run?.variations, onRunComplete: () => void mutate() });
  const complete = stream.runComplete || run?.status === "completed";
  const { connection } = stream;
  const control = useRunControl(runId, stream.variations, ackTimeoutMs);
  const open = stream.order.filter((id) => !isTerminal(stream.variations[id]?.status ?? undefined));
  const agents = new Map(run?.variations.map((v) => [v.variation_id, v.agent]));
  const winner = run?.winner ?? null;
  const [selected, setSelected] = useState<string | null>(null);
  const [comparing, setComparing] = useState(false);
  const activeTab = selected && stream.order.includes(selected) ? selected : (stream.order[0] ?? null);
  useRunKeys(stream.order, selected, setSelected);

  if (error) {
    return (
      <div role="alert" data-testid="run-error" className="rounded-lg border border-red-200 bg-red-50 p-4 text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200">
        {error.status === 404 ? (
          `Run ${runId} was not found. It may have expired or never existed.`
        ) : error.status === 401 ? (
          <>
            Your session has ended.{" "}
            <a className="underline" href={`/signin?next=${encodeURIComponent(`/runs/${runId}`)}`}>
              Sign in again
            </a>{" "}
            to watch this run.
          </>
        ) : (
          `Could not load run ${runId}: ${error.message}`
        )}
      </div>
    );
  }

  return (
    <div className="space-y-4">
      <header className="space-y-2 rounded-lg border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900">
        <div className="flex flex-wrap items-center gap-3">
          <h1 className="font-mono text-base font-semibold">{runId}</h1>
          <span
            className={complete ? "text-sm font-medium text-green-700 dark:text-green-400" : "text-sm font-medium text-blue-700 dark:text-blue-300"}
            data-testid="run-status"
            data-status={complete ? "completed" : "running"}
          >
            {complete ? "Run complete" : "Running"}
          </span>
          <span className="ml-auto flex items-center gap-3">
            {backend && <BackendBadge backend={backend} overridden={backend !== serverBackend} />}
            <ConnectionIndicator state={backend ? connection : null} />
          </span>
        </div>
        {connection.error && !stream.runComplete && (
          <div role="alert" className="flex flex-wrap items-center gap-3 text-sm text-red-700 dark:text-red-400" data-testid="stream-error" data-connection={connection.status}>
            <p>
              {connection.error}
            </p>
            {connection.status === "lost" && (
              <button
                type="button"
                onClick={stream.retry}
                className="rounded-md border border-red-300 px-2 py-0.5 font-medium hover:bg-red-50 dark:border-red-800 dark:hover:bg-red-950"
                data-testid="stream-retry"
              >
                Retry
              </button>
            )}
          </div>
        )}
        {stream.resets > 0 && (
          <p role="status" className="text-xs text-amber-700 dark:text-amber-300" data-testid="stream-reset">
            The run&apos;s history no longer held where this page left off (it was trimmed); the page was reloaded from what the server keeps.
          </p>
        )}
        {stream.rejectedEvents > 0 && (
          <p role="status" className="text-xs text-amber-700 dark:text-amber-300" data-testid="rejected-events">
            {stream.rejectedEvents} event(s) from the server could not be read and were skipped; the page may be out of date with the server. Reload to resync.
          </p>
        )}
        {run && (
          <p className="text-sm whitespace-pre-wrap text-zinc-700 dark:text-zinc-300" data-testid="run-prompt">
            {run.prompt}
          </p>
        )}
        {run && (
          <p className="text-xs text-zinc-600 dark:text-zinc-400" data-testid="run-times">
            Created <time dateTime={run.created_at}>{new Date(run.created_at).toLocaleString()}</time> · {complete ? "took" : "running for"}{" "}
            <Elapsed from={run.created_at} to={complete ? lastEnd(stream.order.map((id) => stream.variations[id]?.endedAt ?? null)) ?? run.created_at : null} testId="run-duration" />
          </p>
        )}
        {canControl && !complete && open.length > 0 && (
          <RunControls
            anyPaused={open.some((id) => stream.variations[id]?.status === "paused")}
            onAction={(action) => void control.send(action)}
          />
        )}
        {control.error && (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400" data-testid="control-error">
            {control.error}
          </p>
        )}
        {complete && (
          <p className="text-sm text-zinc-700 dark:text-zinc-300" data-testid="run-winner">
            {winner ? (
              <>
                Winner: <span className="font-mono font-semibold">{winner}</span>
              </>
            ) : (
              canControl ? "No winner selected yet: pick the variation you prefer with “Select as winner”." : "No winner selected yet."
            )}
          </p>
        )}
      </header>
      {comparing ? (
        <CompareView order={stream.order} variations={stream.variations} onClose={() => setComparing(false)} />
      ) : (
        stream.order.length > 1 && (
          <button
            type="button"
            onClick={() => setComparing(true)}
            className="rounded-md border border-zinc-300 px-2 py-1 text-xs font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
            data-testid="compare-open"
          >
            Compare two variations
          </button>
        )
      )}
      {/* Narrow screens: one variation at a time, chosen with tabs (j/k move too). */}
      <div role="tablist" aria-label="Variations" className="flex gap-1 overflow-x-auto md:hidden" data-testid="variation-tabs">
        {stream.order.map((id) => (
          <button
            key={id}
            type="button"
            role="tab"
            aria-selected={id === activeTab}
            onClick={() => setSelected(id)}
            className={cn(
              "shrink-0 rounded-md border px-2.5 py-1 font-mono text-xs",
              id === activeTab ? "border-blue-600 bg-blue-600 text-white" : "border-zinc-300 dark:border-zinc-700",
            )}
            data-testid="variation-tab"
          >
            {id}
            {stream.variations[id]?.status ? ` · ${stream.variations[id]!.status}` : ""}
          </button>
        ))}
      </div>
      <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
        {stream.order.map((id) => {
          const variation = stream.variations[id];
          if (!variation) return null;
          const state = control.of(id);
          return (
            <VariationPane
              key={id}
              runId={runId}
              variation={variation}
              hiddenOnNarrow={id !== activeTab}
              selected={selected === id}
              onSelect={setSelected}
              agent={agents.get(id) ?? null}
              controlFailure={state.failure}
              controls={
                canControl ? (
                  <VariationControls variationId={id} status={variation.status} control={state} onAction={(action) => void control.send(action, id)} />
                ) : null
              }
              winner={
                run && canControl ? (
                  <SelectWinnerButton runId={runId} variationId={id} runComplete={complete} winner={winner} onSelected={(updated) => void mutate(updated, { revalidate: false })} />
                ) : null
              }
            />
          );
        })}
      </div>
    </div>
  );
}
