/**
 * Names and choices visible to the browser. No process.env here: the server reads
 * NEXT_PUBLIC_STREAMING_BACKEND at request time (lib/env.ts) and hands the choice to the page,
 * so one build serves either backend.
 */
import { z } from "zod";

export const STREAMING_BACKENDS = ["redis", "kubectl"] as const;
export const streamingBackendSchema = z.enum(STREAMING_BACKENDS);
export type StreamingBackend = z.infer<typeof streamingBackendSchema>;

/** What the badge says; unset means redis (the earlier frontend wrongly showed kubectl then). */
export const BACKEND_LABELS: Record<StreamingBackend, string> = {
  redis: "Redis Streaming",
  kubectl: "Kubectl Streaming",
};
