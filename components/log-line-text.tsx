import { ansiSegments } from "@/lib/ansi";
import { highlight } from "@/lib/log-view";

/** A log line with its ANSI colours (agent CLIs colour their output for terminals) and search matches marked. */
export function LineText({ text, query }: { text: string; query: string }) {
  return ansiSegments(text).map((s, i) => {
    const styled = s.color || s.background || s.bold || s.italic || s.underline || s.dim;
    const pieces = highlight(s.text, query).map((p, j) =>
      p.match ? (
        <mark key={j} className="rounded-sm bg-yellow-200 text-inherit dark:bg-yellow-700/60" data-testid="log-match">
          {p.text}
        </mark>
      ) : (
        p.text
      ),
    );
    if (!styled) return <span key={i}>{pieces}</span>;
    return (
      <span
        key={i}
        data-testid="ansi-segment"
        style={{
          color: s.color,
          backgroundColor: s.background,
          fontWeight: s.bold ? 600 : undefined,
          fontStyle: s.italic ? "italic" : undefined,
          textDecoration: s.underline ? "underline" : undefined,
          opacity: s.dim ? 0.7 : undefined,
        }}
      >
        {pieces}
      </span>
    );
  });
}
