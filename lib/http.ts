/** Small request helpers shared by route handlers. */
import { ApiError } from "./errors";

/** The JSON body, or a 400 that says the body is not JSON (rather than a 500 from a throw). */
export async function readJsonBody(request: Request): Promise<unknown> {
  const text = await request.text();
  if (!text.trim()) throw new ApiError("bad_request", "body: a JSON object is required");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError("bad_request", "body: not valid JSON");
  }
}

/** The second argument Next passes to handlers under /api/v1/runs/[runId]. */
export type RunRouteContext = { params: Promise<{ runId: string }> };
