import { requireAdmin, requireViewer } from "@/lib/auth";
import { serverEnv } from "@/lib/env";
import { toErrorResponse } from "@/lib/errors";
import type { CreateRunResponse } from "@/lib/events";
import { readJsonBody } from "@/lib/http";
import { parseCreateRunRequest } from "@/lib/limits";
import { startRun } from "@/lib/orchestrator";
import { enforceRateLimit } from "@/lib/rate-limit";
import { listRuns } from "@/lib/runs";
import { streamUrl } from "@/lib/urls";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

export async function POST(request: Request) {
  try {
    await enforceRateLimit("run_creation", request, "POST /api/v1/runs");
    requireAdmin(request);
    const input = parseCreateRunRequest(await readJsonBody(request));
    const run = await startRun(input);
    const body: CreateRunResponse = {
      run_id: run.runId,
      stream_url: streamUrl(run.runId, serverEnv().NEXT_PUBLIC_STREAMING_BACKEND),
      agent_token: run.agentToken,
    };
    return Response.json(body, { status: 202 });
  } catch (error) {
    return toErrorResponse(error, "POST /api/v1/runs");
  }
}

export async function GET(request: Request) {
  try {
    requireViewer(request);
    return Response.json({ runs: await listRuns() });
  } catch (error) {
    return toErrorResponse(error, "GET /api/v1/runs");
  }
}
