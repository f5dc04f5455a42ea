import { requireAgent } from "@/lib/auth";
import { publishBatch, validateBatch } from "@/lib/agent-events";
import { toErrorResponse } from "@/lib/errors";
import { readJsonBody, runIdParam, type RunRouteContext } from "@/lib/http";
import { eventsBodyLimit } from "@/lib/limits";
import { enforceRateLimit } from "@/lib/rate-limit";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/**
 * For agents that cannot reach Redis: `{"messages": [...]}` in the agent message format,
 * published in order. Needs the run's agent token; a viewer has none.
 */
export async function POST(request: Request, { params }: RunRouteContext) {
  try {
    await enforceRateLimit("agent", request, "POST /api/v1/runs/[runId]/events");
    const runId = await runIdParam(params);
    const run = await requireAgent(request, runId);
    const messages = await validateBatch(run, await readJsonBody(request, eventsBodyLimit()));
    return Response.json({ published: await publishBatch(run, messages) });
  } catch (error) {
    return toErrorResponse(error, "POST /api/v1/runs/[runId]/events");
  }
}
