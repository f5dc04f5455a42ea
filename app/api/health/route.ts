import { checkHealth } from "@/lib/health";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

/** Never a 500: a probe that cannot even tell whether Redis answers is a 503 with the reason. */
export async function GET() {
  const health = await checkHealth().catch((error: unknown) => ({
    ok: false,
    redis: "down" as const,
    reason: `the health check failed: ${(error as Error).message}`,
  }));
  return Response.json(health, { status: health.ok ? 200 : 503 });
}
