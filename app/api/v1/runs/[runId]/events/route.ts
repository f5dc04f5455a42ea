import { publishBatch, validateBatch } from "@/lib/agent-events";
import { toErrorResponse } from "@/lib/errors";
import { readJsonBody, type RunRouteContext } from "@/lib/http";
import { requireAgentToken } from "@/lib/runs";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** A batch of 500 messages of a few KiB each. */
const MAX_EVENTS_BODY_BYTES = 4 * 1024 * 1024;

/**
 * For agents that cannot reach Redis: `{"messages": [...]}` in the agent message format,
 * published in order. Needs the run's agent token; a viewer has none.
 */
export async function POST(request: Request, { params }: RunRouteContext) {
  try {
    const { runId } = await params;
    const run = await requireAgentToken(runId, request.headers.get("authorization"));
    const messages = await validateBatch(run, await readJsonBody(request, MAX_EVENTS_BODY_BYTES));
    return Response.json({ published: await publishBatch(run, messages) });
  } catch (error) {
    return toErrorResponse(error, "POST /api/v1/runs/[runId]/events");
  }
}
