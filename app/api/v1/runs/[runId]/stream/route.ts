import { requireViewer } from "@/lib/auth";
import { toErrorResponse } from "@/lib/errors";
import { runIdParam, type RunRouteContext } from "@/lib/http";
import { openLogRunStream } from "@/lib/log-stream";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * SSE of one run from its agents' stdout (log files, or `kubectl logs -f` on Kubernetes): the
 * fallback for when Redis pub/sub is not available. Same events as /stream/redis.
 */
export async function GET(request: Request, { params }: RunRouteContext) {
  try {
    requireViewer(request);
    const runId = await runIdParam(params);
    return await openLogRunStream(runId, request.signal);
  } catch (error) {
    return toErrorResponse(error, "GET /api/v1/runs/[runId]/stream");
  }
}
