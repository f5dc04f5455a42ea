/** Small request helpers shared by route handlers. */
import { ApiError } from "./errors";

/** Far above any valid request (a 20,000-character prompt); bigger bodies are refused unread. */
export const MAX_BODY_BYTES = 256 * 1024;

/** The JSON body, or a 400 that says the body is not JSON (rather than a 500 from a throw). */
export async function readJsonBody(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > MAX_BODY_BYTES) throw new ApiError("payload_too_large", `body: larger than ${MAX_BODY_BYTES} bytes`);
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new ApiError("payload_too_large", `body: larger than ${MAX_BODY_BYTES} bytes`);
  if (!text.trim()) throw new ApiError("bad_request", "body: a JSON object is required");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError("bad_request", "body: not valid JSON");
  }
}

/** The second argument Next passes to handlers under /api/v1/runs/[runId]. */
export type RunRouteContext = { params: Promise<{ runId: string }> };
