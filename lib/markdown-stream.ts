/**
 * Streaming markdown without re-rendering the whole document per token, and without flicker
 * while a code fence is still open.
 *
 * Output only ever grows, so it is cut into blocks at blank lines outside code fences: every
 * block but the last is finished (nothing later can change how it renders) and is parsed once;
 * only the last block, the "tail", is parsed again as tokens arrive. A tail inside a code fence
 * that has not been closed yet is rendered with its fence closed, so it shows as code from the
 * first line instead of as paragraph text that turns into code when the closing fence arrives.
 */

export interface MarkdownParts {
  /** Finished blocks, each ending with its blank line(s). Joined with the tail they give the input. */
  stable: string[];
  /** The block still being written, exactly as received. */
  tail: string;
  /** What to render for the tail: the tail, with a fence it leaves open closed. */
  renderTail: string;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

export function splitMarkdown(markdown: string): MarkdownParts {
  const stable: string[] = [];
  let blockStart = 0;
  let fence: string | null = null; // the open fence's marker, e.g. "```"
  let position = 0;
  let previousBlank = false;
  while (position < markdown.length) {
    const newline = markdown.indexOf("\n", position);
    if (newline < 0) {
      // A line still being written: if it has started a new block after a blank line, the
      // block before is finished; it ends nothing else yet.
      const partial = markdown.slice(position);
      if (fence === null && previousBlank && partial.trim() !== "" && position > blockStart) {
        stable.push(markdown.slice(blockStart, position));
        blockStart = position;
      }
      break;
    }
    const line = markdown.slice(position, newline);
    const blank = line.trim() === "";
    const marker = FENCE.exec(line)?.[1];
    if (fence === null && marker) {
      // A block starts here if a blank line ended the previous one.
      if (previousBlank && position > blockStart) {
        stable.push(markdown.slice(blockStart, position));
        blockStart = position;
      }
      fence = marker;
    } else if (fence !== null && marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) {
      fence = null;
    } else if (fence === null && !blank && previousBlank && position > blockStart) {
      stable.push(markdown.slice(blockStart, position));
      blockStart = position;
    }
    previousBlank = fence === null && blank;
    position = newline + 1;
  }
  const tail = markdown.slice(blockStart);
  const renderTail = fence !== null ? `${tail}${tail.endsWith("\n") ? "" : "\n"}${fence}\n` : tail;
  return { stable, tail, renderTail };
}
