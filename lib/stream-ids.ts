/**
 * Redis Stream entry ids ("<ms>-<seq>"), which are also the SSE event ids of the Redis backend.
 * Compared as numbers: as strings "10-0" would sort before "9-0".
 */
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;

export function isStreamId(value: string): boolean {
  return STREAM_ID.test(value);
}

/**
 * Negative, zero or positive, like a sort comparator. Runs for every viewer on every live
 * message (is it past the last one sent?), so it compares the digits in place: no regex, no
 * BigInt, no allocation. Numbers, not strings: leading zeros (a client's Last-Event-ID may have
 * them) are skipped, and a longer number is the larger.
 */
export function compareStreamIds(a: string, b: string): number {
  const aDash = a.indexOf("-");
  const bDash = b.indexOf("-");
  // Not an id (callers check theirs first): counts as 0-0, as a regex miss always did.
  if (aDash <= 0 || bDash <= 0) return compareStreamIds(aDash <= 0 ? "0-0" : a, bDash <= 0 ? "0-0" : b);
  return compareDigits(a, 0, aDash, b, 0, bDash) || compareDigits(a, aDash + 1, a.length, b, bDash + 1, b.length);
}

function compareDigits(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): number {
  while (aStart < aEnd - 1 && a.charCodeAt(aStart) === 48) aStart++;
  while (bStart < bEnd - 1 && b.charCodeAt(bStart) === 48) bStart++;
  const length = aEnd - aStart;
  if (length !== bEnd - bStart) return length < bEnd - bStart ? -1 : 1;
  for (let i = 0; i < length; i++) {
    const difference = a.charCodeAt(aStart + i) - b.charCodeAt(bStart + i);
    if (difference !== 0) return difference < 0 ? -1 : 1;
  }
  return 0;
}
