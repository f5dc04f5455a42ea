import { requireAgent } from "@/lib/auth";
import { openControlStream } from "@/lib/control";
import { toErrorResponse } from "@/lib/errors";
import { runIdParam, type RunRouteContext } from "@/lib/http";
import { lastEventIdOf } from "@/lib/run-stream";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * SSE of the run's control messages, for its agents (Authorization: Bearer <agent token>):
 * every message after Last-Event-ID (or ?lastEventId=), then live. ?variation_id= narrows it
 * to one variation and keeps that agent's heartbeat alive while the stream is open.
 */
export async function GET(request: Request, { params }: RunRouteContext) {
  try {
    const runId = await runIdParam(params);
    const run = await requireAgent(request, runId);
    const variationId = new URL(request.url).searchParams.get("variation_id");
    return await openControlStream(run, variationId, request.signal, lastEventIdOf(request));
  } catch (error) {
    return toErrorResponse(error, "GET /api/v1/runs/[runId]/control/stream");
  }
}
