/**
 * Redis Stream entry ids ("<ms>-<seq>"), which are also the SSE event ids of the Redis backend.
 * Compared as numbers: as strings "10-0" would sort before "9-0".
 */
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;

export function isStreamId(value: string): boolean {
  return STREAM_ID.test(value);
}

/** Negative, zero or positive, like a sort comparator. */
export function compareStreamIds(a: string, b: string): number {
  const [, aMs = "0", aSeq = "0"] = STREAM_ID.exec(a) ?? [];
  const [, bMs = "0", bSeq = "0"] = STREAM_ID.exec(b) ?? [];
  const ms = BigInt(aMs) - BigInt(bMs);
  if (ms !== BigInt(0)) return ms < BigInt(0) ? -1 : 1;
  const seq = BigInt(aSeq) - BigInt(bSeq);
  return seq === BigInt(0) ? 0 : seq < BigInt(0) ? -1 : 1;
}
