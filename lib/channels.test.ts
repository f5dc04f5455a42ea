import { describe, expect, it } from "vitest";
import { channelFor, channels, keys, parseChannel, parseInboxWake } from "./channels";

const RUN = "run-0123456789ab";

describe("channel names", () => {
  it("spells the protocol's channels", () => {
    expect(channels.output(RUN, "var-1")).toBe("run:run-0123456789ab:output:var-1");
    expect(channels.logs(RUN, "var-2")).toBe("run:run-0123456789ab:logs:var-2");
    expect(channels.status(RUN)).toBe("run:run-0123456789ab:status");
    expect(channels.metrics(RUN)).toBe("run:run-0123456789ab:metrics");
    expect(channels.control(RUN)).toBe("run:run-0123456789ab:control");
    expect(channels.runPattern(RUN)).toBe("run:run-0123456789ab:*");
    expect(channels.inboxWake(RUN)).toBe("inbox:run-0123456789ab");
  });

  it("keeps inbox wake-ups out of viewers' patterns, and parses them back", () => {
    // A viewer's run:<id>:* must not match: the wake-up is no message for it.
    expect(channels.inboxWake(RUN).startsWith(`run:${RUN}:`)).toBe(false);
    expect(parseChannel(channels.inboxWake(RUN))).toBeNull();
    expect(parseInboxWake(channels.inboxWake(RUN))).toBe(RUN);
    expect(parseInboxWake(channels.status(RUN))).toBeNull();
    expect(keys.runInbox(RUN)).toBe(`run:{${RUN}}:inbox`);
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
