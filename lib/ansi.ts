/**
 * ANSI colour codes in log lines (what agent CLIs print to a terminal) as styled segments,
 * parsed by anser rather than by hand. Segments, not HTML: React renders them as spans, so a
 * log line can never inject markup.
 */
import Anser from "anser";

export interface AnsiSegment {
  text: string;
  /** CSS colour, e.g. "rgb(187, 0, 0)". */
  color?: string;
  background?: string;
  bold?: boolean;
  italic?: boolean;
  underline?: boolean;
  dim?: boolean;
}

const HAS_ESCAPE = /\u001b\[/;

export function ansiSegments(line: string): AnsiSegment[] {
  // Most lines have no escape codes: skip the parser for them.
  if (!HAS_ESCAPE.test(line)) return [{ text: line }];
  return Anser.ansiToJson(line, { json: true, remove_empty: true }).map((entry) => {
    const segment: AnsiSegment = { text: entry.content };
    if (entry.fg) segment.color = `rgb(${entry.fg})`;
    if (entry.bg) segment.background = `rgb(${entry.bg})`;
    const decorations = new Set(entry.decorations);
    if (decorations.has("bold")) segment.bold = true;
    if (decorations.has("italic")) segment.italic = true;
    if (decorations.has("underline")) segment.underline = true;
    if (decorations.has("dim")) segment.dim = true;
    return segment;
  });
}
