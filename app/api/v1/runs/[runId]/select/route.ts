import { requireAdmin } from "@/lib/auth";
import { toErrorResponse } from "@/lib/errors";
import { selectWinnerRequestSchema } from "@/lib/events";
import { readJsonBody, runIdParam, type RunRouteContext } from "@/lib/http";
import { enforceRateLimit } from "@/lib/rate-limit";
import { selectWinner } from "@/lib/runs";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** Record the run's winning variation (once the run is complete); answers the updated run. */
export async function POST(request: Request, { params }: RunRouteContext) {
  try {
    await enforceRateLimit("control", request, "POST /api/v1/runs/[runId]/select");
    requireAdmin(request);
    const runId = await runIdParam(params);
    const { winning_variation_id } = selectWinnerRequestSchema.parse(await readJsonBody(request));
    return Response.json({ run: await selectWinner(runId, winning_variation_id) });
  } catch (error) {
    return toErrorResponse(error, "POST /api/v1/runs/[runId]/select");
  }
}
