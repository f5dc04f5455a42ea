import { requireViewer } from "@/lib/auth";
import { toErrorResponse } from "@/lib/errors";
import { loadPresets, summarise } from "@/lib/presets";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** The agent presets a run may use (names and descriptions; commands' env values stay here). */
export function GET(request: Request) {
  try {
    requireViewer(request);
    return Response.json({ presets: loadPresets().map(summarise) });
  } catch (error) {
    return toErrorResponse(error, "GET /api/v1/presets");
  }
}
