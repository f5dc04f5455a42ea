/** Small request helpers shared by route handlers. */
import { ApiError } from "./errors";
import { requireRunId } from "./runs";

/** Far above any valid request (a 20,000-character prompt); bigger bodies are refused unread. */
export const MAX_BODY_BYTES = 256 * 1024;

/** The JSON body, or a 400 that says the body is not JSON (rather than a 500 from a throw). */
export async function readJsonBody(request: Request, limit = MAX_BODY_BYTES): Promise<unknown> {
  const text = await readTextCapped(request, limit);
  if (!text.trim()) throw new ApiError("bad_request", "body: a JSON object is required");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError("bad_request", "body: not valid JSON");
  }
}

/** The second argument Next passes to handlers under /api/v1/runs/[runId]. */
export type RunRouteContext = { params: Promise<{ runId: string }> };

/**
 * The route's run id, or the same 400 on every route when it is not one we issue. Handlers
 * call this first, so a bad id is answered alike whatever else is wrong with the request.
 */
export async function runIdParam(params: RunRouteContext["params"]): Promise<string> {
  return requireRunId((await params).runId);
}

/** The body as text, refusing (413) once it passes `limit` bytes without reading the rest. */
async function readTextCapped(request: Request, limit: number): Promise<string> {
  const tooLarge = () => new ApiError("payload_too_large", `body: larger than ${limit} bytes`);
  if (Number(request.headers.get("content-length") ?? 0) > limit) throw tooLarge();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
