import { describe, expect, it } from "vitest";
import { channels } from "./channels";
import { ControlFollower } from "./control";
import type { ControlMessage } from "./events";
import { metrics } from "./metrics";
import { SseConnection } from "./sse-connection";

const RUN = "run-0123456789ab";

const published = (id: string, variationId: string | null): string => {
  const message: ControlMessage = { control_id: "ctl-0123456789abcdef", run_id: RUN, action: "pause", variation_id: variationId, timestamp: new Date(Date.now() - 3_000).toISOString() };
  return JSON.stringify({ id, message });
};

async function controlLatency(): Promise<{ count: number; sum: number }> {
  const { values } = await metrics().deliveryLatency.get();
  const sample = (name: string) => values.find((v) => v.metricName === `runwatch_sse_delivery_latency_seconds_${name}` && v.labels.backend === "control")?.value ?? 0;
  return { count: sample("count"), sum: sample("sum") };
}

describe("ControlFollower", () => {
  it("observes the latency of a live control message that its history had sent, once, if it is for its variation or the whole run", async () => {
    const connection = new SseConnection(new AbortController().signal);
    // The cursor stands for what the history sent: everything up to 1-3.
    const follower = new ControlFollower(RUN, "var-1", connection, "1-3");
    const before = await controlLatency();
    follower.onPublished(channels.control(RUN), published("1-1", "var-1"));
    follower.onPublished(channels.control(RUN), published("1-2", "var-2")); // another variation's
    follower.onPublished(channels.control(RUN), published("1-3", null)); // the whole run's
    follower.goLive();
    const after = await controlLatency();
    expect(after.count - before.count).toBe(2);
    // Stamped 3 s ago: observed as live, with its delay.
    expect(after.sum - before.sum).toBeGreaterThanOrEqual(6);
    expect(after.sum - before.sum).toBeLessThan(10);
    connection.close();
  });
});
