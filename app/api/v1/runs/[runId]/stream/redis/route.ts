import { toErrorResponse } from "@/lib/errors";
import type { RunRouteContext } from "@/lib/http";
import { openRedisRunStream } from "@/lib/run-stream";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** SSE of one run, from Redis pub/sub. Errors (bad id, unknown run, Redis down) are JSON answers sent before the stream opens. */
export async function GET(request: Request, { params }: RunRouteContext) {
  try {
    const { runId } = await params;
    return await openRedisRunStream(runId, request.signal);
  } catch (error) {
    return toErrorResponse(error, "GET /api/v1/runs/[runId]/stream/redis");
  }
}
