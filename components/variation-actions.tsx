"use client";

import { useState } from "react";
import { toArray } from "@/lib/append-list";
import { logsAsJsonLines, logsAsText, logsFileName, outputFileName } from "@/lib/downloads";
import type { VariationState } from "@/lib/stream-state";

function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  // The download has started from the click; the URL is not needed after this turn.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

const action = "rounded px-1.5 py-0.5 text-xs text-zinc-600 hover:bg-zinc-100 hover:text-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100";

/** Copy and download a variation's output (markdown) and logs (text or JSON lines). */
export function VariationActions({ runId, variation }: { runId: string; variation: VariationState }) {
  const [copied, setCopied] = useState<"ok" | "failed" | null>(null);
  const { variationId, output, logs } = variation;

  async function copy() {
    try {
      await navigator.clipboard.writeText(output);
      setCopied("ok");
    } catch {
      setCopied("failed"); // no clipboard permission (e.g. not a secure context)
    }
    setTimeout(() => setCopied(null), 2_000);
  }

  return (
    <div className="flex flex-wrap items-center gap-1" role="group" aria-label={`Copy or download ${variationId}`}>
      <button type="button" className={action} onClick={() => void copy()} disabled={!output} data-testid="copy-output">
        {copied === "ok" ? "Copied" : copied === "failed" ? "Copy failed" : "Copy"}
      </button>
      <button type="button" className={action} onClick={() => download(outputFileName(runId, variationId), output, "text/markdown")} data-testid="download-output">
        Output .md
      </button>
      <button type="button" className={action} onClick={() => download(logsFileName(runId, variationId, "text"), logsAsText(toArray(logs)), "text/plain")} data-testid="download-logs">
        Logs .log
      </button>
      <button type="button" className={action} onClick={() => download(logsFileName(runId, variationId, "jsonl"), logsAsJsonLines(toArray(logs)), "application/x-ndjson")} data-testid="download-logs-jsonl">
        .jsonl
      </button>
    </div>
  );
}
