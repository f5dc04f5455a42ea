"use client";

/** Shown while a pane is not following: how much arrived meanwhile, and the way back. */
export function JumpToLatest({ unseen, what, onClick }: { unseen: number; what: string; onClick: () => void }) {
  return (
    <button
      type="button"
      onClick={onClick}
      className="absolute right-3 bottom-2 rounded-full bg-blue-600 px-3 py-1 text-xs font-medium text-white shadow hover:bg-blue-700"
      data-testid="jump-to-latest"
      aria-label={`Jump to latest ${what}${unseen ? ` (${unseen} new)` : ""}`}
    >
      Jump to latest{unseen ? ` (${unseen.toLocaleString("en")} new)` : ""}
    </button>
  );
}
