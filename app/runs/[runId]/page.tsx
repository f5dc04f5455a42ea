import { notFound } from "next/navigation";
import { RunView } from "@/components/run-view";
import { serverEnv } from "@/lib/env";
import { isRunId } from "@/lib/ids";

export default async function RunPage({ params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  if (!isRunId(runId)) notFound();
  // Read per request, not baked into the bundle: switching backends needs a restart, not a rebuild.
  const env = serverEnv();
  return <RunView runId={runId} serverBackend={env.NEXT_PUBLIC_STREAMING_BACKEND} ackTimeoutMs={env.CONTROL_ACK_TIMEOUT_MS} />;
}
