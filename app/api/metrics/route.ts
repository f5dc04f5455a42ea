import { requireViewer } from "@/lib/auth";
import { toErrorResponse } from "@/lib/errors";
import { scrapeMetrics } from "@/lib/metrics-scrape";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** Prometheus text format: SSE connections and events, delivery latency, Redis, runs by status. */
export async function GET(request: Request) {
  try {
    requireViewer(request);
    const { contentType, body } = await scrapeMetrics();
    return new Response(body, { headers: { "Content-Type": contentType, "Cache-Control": "no-store" } });
  } catch (error) {
    return toErrorResponse(error, "GET /api/metrics");
  }
}
