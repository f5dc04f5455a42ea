import { requireViewer } from "@/lib/auth";
import { toErrorResponse } from "@/lib/errors";
import { runIdParam, type RunRouteContext } from "@/lib/http";
import { lastEventIdOf, openRedisRunStream } from "@/lib/run-stream";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * SSE of one run from Redis: its history after Last-Event-ID (the header EventSource sends, or
 * ?lastEventId=), then live. Errors (bad id or cursor, unknown run, Redis down) are JSON
 * answers sent before the stream opens.
 */
export async function GET(request: Request, { params }: RunRouteContext) {
  try {
    requireViewer(request);
    const runId = await runIdParam(params);
    return await openRedisRunStream(runId, request.signal, lastEventIdOf(request));
  } catch (error) {
    return toErrorResponse(error, "GET /api/v1/runs/[runId]/stream/redis");
  }
}
