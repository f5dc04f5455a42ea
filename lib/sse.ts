/**
 * Server-Sent Events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 * Pure functions: no Redis, no Next, so both stream backends and tests share them.
 */

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "text/event-stream; charset=utf-8",
  // no-transform: without it Next's compression gzips the stream and buffers events.
  "Cache-Control": "no-cache, no-transform",
  Connection: "keep-alive",
  // Tell nginx-style proxies not to buffer the response.
  "X-Accel-Buffering": "no",
};

export interface SseFrame {
  event?: string;
  id?: string;
  /** Serialised as JSON unless it is already a string. */
  data: unknown;
}

const LINE_BREAK = /[\r\n]/;

/** A field value may not contain a line break, or the frame would split in two. */
function assertSingleLine(name: string, value: string): void {
  if (LINE_BREAK.test(value)) throw new Error(`SSE ${name} must not contain a line break`);
}

export function encodeFrame({ event, id, data }: SseFrame): string {
  let frame = "";
  if (event !== undefined) {
    assertSingleLine("event", event);
    frame += `event: ${event}\n`;
  }
  if (id !== undefined) {
    // A NUL in the id makes browsers ignore it; refuse rather than send a broken resume point.
    if (id.includes("\0")) throw new Error("SSE id must not contain NUL");
    assertSingleLine("id", id);
    frame += `id: ${id}\n`;
  }
  const text = typeof data === "string" ? data : (JSON.stringify(data) as string | undefined);
  // undefined or a function serialise to nothing: a frame without data would say "undefined".
  if (text === undefined) throw new Error("SSE data must be serialisable as JSON");
  // JSON never has a raw line break, so this is nearly every frame: no split, no array.
  if (!LINE_BREAK.test(text)) return `${frame}data: ${text}\n\n`;
  // Every line of a multi-line payload needs its own `data:` prefix; the reader joins them with \n.
  for (const line of text.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`;
  return `${frame}\n`;
}

/** A comment line: ignored by EventSource, but keeps proxies and load balancers from timing out. */
export function encodeComment(text = ""): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => `: ${line}\n`)
    .join("")
    .concat("\n");
}

/** Sets the client's reconnection delay without dispatching an event. */
export function encodeRetry(ms: number): string {
  return `retry: ${Math.max(0, Math.floor(ms))}\n\n`;
}
