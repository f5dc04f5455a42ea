/**
 * Browser-visible configuration. Next inlines `process.env.NEXT_PUBLIC_*` at build time only
 * when the name is spelled out literally, so each variable is read by name here.
 */
import { z } from "zod";

export const STREAMING_BACKENDS = ["redis", "kubectl"] as const;
export const streamingBackendSchema = z.enum(STREAMING_BACKENDS);
export type StreamingBackend = z.infer<typeof streamingBackendSchema>;

/** Unset or unknown means redis: the primary backend (the earlier frontend wrongly fell back to kubectl). */
export function configuredBackend(): StreamingBackend {
  const parsed = streamingBackendSchema.safeParse(process.env.NEXT_PUBLIC_STREAMING_BACKEND);
  return parsed.success ? parsed.data : "redis";
}
