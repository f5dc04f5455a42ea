import { notFound } from "next/navigation";
import { RunView } from "@/components/run-view";
import { isRunId } from "@/lib/ids";
import { configuredBackend } from "@/lib/public-env";

export default async function RunPage({ params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  if (!isRunId(runId)) notFound();
  return <RunView runId={runId} backend={configuredBackend()} />;
}
