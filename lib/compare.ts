/**
 * Two variations' outputs side by side with their differences marked: a word diff (jsdiff,
 * the library behind most JS diff views) split into the two columns, each keeping
 * what they share plus what only it has.
 */
import { diffWordsWithSpace } from "diff";

export interface ComparePiece {
  text: string;
  /** Only in this side's output. */
  changed: boolean;
}

export interface Comparison {
  left: ComparePiece[];
  right: ComparePiece[];
  /** Share of words both outputs have, 0..1: a quick sense of how alike they are; null if not computed. */
  similarity: number | null;
}

/**
 * A word diff costs more the longer and the more different two outputs are (seconds for two
 * unrelated 3,000-word answers): past this it gives up and the outputs are shown unmarked.
 */
export const DIFF_TIMEOUT_MS = 150;

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

export function compareOutputs(left: string, right: string, timeoutMs = DIFF_TIMEOUT_MS): Comparison {
  // WithSpace: plain diffWords folds whitespace changes into its pieces, and a side rebuilt
  // from them would not be the output the agent wrote (blank lines, indentation).
  const changes = diffWordsWithSpace(left, right, { timeout: timeoutMs });
  if (!changes) return { left: [{ text: left, changed: false }], right: [{ text: right, changed: false }], similarity: null };
  const out: Comparison = { left: [], right: [], similarity: 0 };
  let shared = 0;
  for (const change of changes) {
    if (change.added) out.right.push({ text: change.value, changed: true });
    else if (change.removed) out.left.push({ text: change.value, changed: true });
    else {
      out.left.push({ text: change.value, changed: false });
      out.right.push({ text: change.value, changed: false });
      shared += words(change.value);
    }
  }
  const most = Math.max(words(left), words(right));
  out.similarity = most === 0 ? 1 : shared / most;
  return out;
}
