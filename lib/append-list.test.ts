import { describe, expect, it } from "vitest";
import { appendAll, emptyList, itemAt, toArray, type AppendList } from "./append-list";

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe("AppendList", () => {
  it("appends across chunk boundaries and reads every item back in order", () => {
    let list: AppendList<number> = emptyList();
    for (const [from, to] of [[0, 3], [3, 1024], [1024, 1025], [1025, 3000], [3000, 3001]] as const) list = appendAll(list, range(from, to));
    expect(list.length).toBe(3001);
    expect(toArray(list)).toEqual(range(0, 3001));
    expect([itemAt(list, 0), itemAt(list, 1023), itemAt(list, 1024), itemAt(list, 3000)]).toEqual([0, 1023, 1024, 3000]);
    expect([itemAt(list, -1), itemAt(list, 3001)]).toEqual([undefined, undefined]);
  });

  it("leaves earlier versions as they were, sharing their full chunks", () => {
    const before = appendAll(emptyList<number>(), range(0, 1500));
    const after = appendAll(before, range(1500, 1600));
    const again = appendAll(before, [-1]);
    expect(toArray(before)).toEqual(range(0, 1500));
    expect(toArray(after)).toEqual(range(0, 1600));
    expect(toArray(again)).toEqual([...range(0, 1500), -1]);
    expect(after.chunks[0]).toBe(before.chunks[0]);
    expect(appendAll(after, [])).toBe(after);
  });
});
