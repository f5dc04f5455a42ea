import { requireViewer } from "@/lib/auth";
import { toErrorResponse } from "@/lib/errors";
import { openRunsFeed } from "@/lib/runs-feed";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * SSE of what changes across all runs (statuses, new runs, winners), for the live runs list.
 * Redis down: a JSON 503 before the stream opens.
 */
export async function GET(request: Request) {
  try {
    requireViewer(request);
    return await openRunsFeed(request.signal);
  } catch (error) {
    return toErrorResponse(error, "GET /api/v1/stream");
  }
}
