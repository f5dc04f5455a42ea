import { notFound } from "next/navigation";
import { RunView } from "@/components/run-view";
import { serverEnv } from "@/lib/env";
import { isRunId } from "@/lib/ids";
import { requirePageRole } from "@/lib/page-auth";

export default async function RunPage({ params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  // Before the id check: a visitor who is not signed in learns nothing about which ids exist.
  const role = await requirePageRole(`/runs/${encodeURIComponent(runId)}`);
  if (!isRunId(runId)) notFound();
  // Read per request, not baked into the bundle: switching backends needs a restart, not a rebuild.
  const env = serverEnv();
  return <RunView runId={runId} serverBackend={env.NEXT_PUBLIC_STREAMING_BACKEND} ackTimeoutMs={env.CONTROL_ACK_TIMEOUT_MS} canControl={role === "admin"} />;
}
