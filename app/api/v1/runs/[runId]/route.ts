import { requireViewer } from "@/lib/auth";
import { toErrorResponse } from "@/lib/errors";
import { runIdParam, type RunRouteContext } from "@/lib/http";
import { requireRun } from "@/lib/runs";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function GET(request: Request, { params }: RunRouteContext) {
  try {
    requireViewer(request);
    const runId = await runIdParam(params);
    return Response.json(await requireRun(runId));
  } catch (error) {
    return toErrorResponse(error, "GET /api/v1/runs/[runId]");
  }
}
