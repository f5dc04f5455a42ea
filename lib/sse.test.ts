import { createParser, type EventSourceMessage } from "eventsource-parser";
import { describe, expect, it } from "vitest";
import { encodeComment, encodeFrame, encodeRetry } from "./sse";

/** Parse with a real SSE parser: what a browser would see. */
function parse(text: string) {
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  let retry: number | undefined;
  const parser = createParser({
    onEvent: (event) => events.push(event),
    onComment: (comment) => comments.push(comment),
    onRetry: (ms) => (retry = ms),
  });
  parser.feed(text);
  return { events, comments, retry };
}

describe("encodeFrame", () => {
  it("writes event, id and JSON data, ending with a blank line", () => {
    const frame = encodeFrame({ event: "agent_output", id: "1-0", data: { a: 1 } });
    expect(frame).toBe('event: agent_output\nid: 1-0\ndata: {"a":1}\n\n');
    expect(parse(frame).events).toEqual([{ event: "agent_output", id: "1-0", data: '{"a":1}' }]);
  });

  it("splits multi-line data into one data: line each, which the reader joins with \\n", () => {
    const text = "line one\nline two\r\nline three\rfour";
    const frame = encodeFrame({ data: text });
    expect(frame).toBe("data: line one\ndata: line two\ndata: line three\ndata: four\n\n");
    expect(parse(frame).events[0]?.data).toBe("line one\nline two\nline three\nfour");
  });

  it("keeps JSON with embedded newlines intact", () => {
    const payload = { content: "# Title\n\n```ts\nconst x = 1;\n```\n" };
    const { events } = parse(encodeFrame({ event: "agent_output", data: payload }));
    expect(JSON.parse(events[0]!.data)).toEqual(payload);
  });

  it("refuses an event name or id that would break the frame", () => {
    expect(() => encodeFrame({ event: "a\nb", data: "x" })).toThrow(/line break/);
    expect(() => encodeFrame({ event: "a", data: undefined })).toThrow(/serialisable/);
    expect(() => encodeFrame({ id: "1\n2", data: "x" })).toThrow(/line break/);
    expect(() => encodeFrame({ id: "1\u00002", data: "x" })).toThrow(/NUL/);
  });

  it("sends consecutive frames as separate events", () => {
    const text = encodeFrame({ event: "a", data: "1" }) + encodeFrame({ event: "b", data: "2" });
    expect(parse(text).events.map((e) => [e.event, e.data])).toEqual([
      ["a", "1"],
      ["b", "2"],
    ]);
  });
});

describe("comments and retry", () => {
  it("encodes a comment that dispatches no event", () => {
    const parsed = parse(encodeComment("heartbeat"));
    expect(parsed.events).toEqual([]);
    expect(parsed.comments).toEqual(["heartbeat"]);
  });

  it("prefixes every line of a multi-line comment", () => {
    expect(encodeComment("a\nb")).toBe(": a\n: b\n\n");
  });

  it("sets the reconnection delay without dispatching an event", () => {
    const parsed = parse(encodeRetry(2000));
    expect(parsed.retry).toBe(2000);
    expect(parsed.events).toEqual([]);
  });
});
