/**
 * JSON.parse for text from outside (Redis payloads, stdout lines, SSE data, env values): it
 * answers `undefined` instead of throwing. No JSON text parses to `undefined`, so that means
 * "not JSON", and a schema's safeParse then rejects it like any other bad value. No server
 * imports: the agent and the browser use it too.
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
