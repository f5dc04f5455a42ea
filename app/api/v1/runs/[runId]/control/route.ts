import { requireAdmin } from "@/lib/auth";
import { sendControl } from "@/lib/control";
import { toErrorResponse } from "@/lib/errors";
import { controlRequestSchema } from "@/lib/events";
import { readJsonBody, runIdParam, type RunRouteContext } from "@/lib/http";
import { enforceRateLimit } from "@/lib/rate-limit";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * Pause, resume or stop one variation (`variation_id`) or the whole run. 202: the control
 * message is on its way; the agents acknowledge it on the run's stream with a status carrying
 * `control_id`.
 */
export async function POST(request: Request, { params }: RunRouteContext) {
  try {
    await enforceRateLimit("control", request, "POST /api/v1/runs/[runId]/control");
    requireAdmin(request);
    const runId = await runIdParam(params);
    const input = controlRequestSchema.parse(await readJsonBody(request));
    return Response.json(await sendControl(runId, input), { status: 202 });
  } catch (error) {
    return toErrorResponse(error, "POST /api/v1/runs/[runId]/control");
  }
}
