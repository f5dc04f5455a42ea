import { requireAgent } from "@/lib/auth";
import { z } from "zod";
import { recordHeartbeat } from "@/lib/control";
import { toErrorResponse } from "@/lib/errors";
import { variationIdSchema } from "@/lib/ids";
import { readJsonBody, runIdParam, type RunRouteContext } from "@/lib/http";
import { enforceRateLimit } from "@/lib/rate-limit";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const heartbeatRequestSchema = z.object({ variation_id: variationIdSchema });

/** An agent over HTTP says it is alive (Authorization: Bearer <agent token>). 204. */
export async function POST(request: Request, { params }: RunRouteContext) {
  try {
    await enforceRateLimit("agent", request, "POST /api/v1/runs/[runId]/heartbeat");
    const runId = await runIdParam(params);
    const run = await requireAgent(request, runId);
    const { variation_id } = heartbeatRequestSchema.parse(await readJsonBody(request));
    await recordHeartbeat(run, variation_id);
    return new Response(null, { status: 204 });
  } catch (error) {
    return toErrorResponse(error, "POST /api/v1/runs/[runId]/heartbeat");
  }
}
