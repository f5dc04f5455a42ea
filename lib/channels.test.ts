import { describe, expect, it } from "vitest";
import { channelFor, channels, keys, parseChannel } from "./channels";

const RUN = "run-0123456789ab";

describe("channel names", () => {
  it("spells the protocol's channels", () => {
    expect(channels.output(RUN, "var-1")).toBe("run:run-0123456789ab:output:var-1");
    expect(channels.logs(RUN, "var-2")).toBe("run:run-0123456789ab:logs:var-2");
    expect(channels.status(RUN)).toBe("run:run-0123456789ab:status");
    expect(channels.metrics(RUN)).toBe("run:run-0123456789ab:metrics");
    expect(channels.control(RUN)).toBe("run:run-0123456789ab:control");
    expect(channels.runPattern(RUN)).toBe("run:run-0123456789ab:*");
  });

  it("maps each message type to its channel", () => {
    expect(channelFor("output", RUN, "v")).toBe(channels.output(RUN, "v"));
    expect(channelFor("log", RUN, "v")).toBe(channels.logs(RUN, "v"));
    expect(channelFor("status", RUN, "v")).toBe(channels.status(RUN));
    expect(channelFor("metric", RUN, "v")).toBe(channels.metrics(RUN));
  });

  it("keeps run keys under the run's prefix so one pattern names all of a run", () => {
    // One hash tag per run: one Cluster slot, so the publish script may touch every key.
    for (const key of [keys.runMeta(RUN), keys.runVariations(RUN), keys.runEvents(RUN), keys.runSequences(RUN)]) {
      expect(key.startsWith(`run:{${RUN}}:`)).toBe(true);
    }
  });

  it("parses channels back, and rejects anything else", () => {
    expect(parseChannel(channels.output(RUN, "var-1"))).toEqual({ runId: RUN, kind: "output", variationId: "var-1" });
    expect(parseChannel(channels.status(RUN))).toEqual({ runId: RUN, kind: "status" });
    expect(parseChannel(`run:${RUN}:output`)).toBeNull();
    expect(parseChannel(`run:${RUN}:status:extra`)).toBeNull();
    expect(parseChannel(`run:${RUN}:unknown`)).toBeNull();
    expect(parseChannel("other:thing:status")).toBeNull();
  });
});
