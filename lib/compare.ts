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
  /** Share of words both outputs have, 0..1: a quick sense of how alike they are. */
  similarity: number;
}

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

export function compareOutputs(left: string, right: string): Comparison {
  // WithSpace: plain diffWords folds whitespace changes into its pieces, and a side rebuilt
  // from them would not be the output the agent wrote (blank lines, indentation).
  const changes = diffWordsWithSpace(left, right);
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
