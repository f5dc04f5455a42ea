import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SilenceDetector, silenceTimeout } from "./silence";

describe("SilenceDetector", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("waits 2.5 heartbeats", () => {
    expect(silenceTimeout(30_000)).toBe(75_000);
    expect(silenceTimeout(250)).toBe(625);
  });

  it("fires once the stream has been silent for the timeout", () => {
    const onSilent = vi.fn();
    const detector = new SilenceDetector(1_000, onSilent);
    detector.heard();
    vi.advanceTimersByTime(999);
    expect(onSilent).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onSilent).toHaveBeenCalledTimes(1);
    expect(onSilent.mock.calls[0]?.[0]).toBeGreaterThanOrEqual(1_000);
  });

  it("does not fire while events keep arriving, and fires after they stop", () => {
    const onSilent = vi.fn();
    const detector = new SilenceDetector(1_000, onSilent);
    detector.heard();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(600);
      detector.heard();
    }
    expect(onSilent).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(onSilent).toHaveBeenCalledTimes(1);
  });

  it("keeps a single timer however many events arrive", () => {
    const detector = new SilenceDetector(1_000, () => undefined);
    for (let i = 0; i < 1_000; i++) detector.heard();
    expect(vi.getTimerCount()).toBe(1);
    detector.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("never fires after stop", () => {
    const onSilent = vi.fn();
    const detector = new SilenceDetector(1_000, onSilent);
    detector.heard();
    detector.stop();
    vi.advanceTimersByTime(10_000);
    expect(onSilent).not.toHaveBeenCalled();
  });

  it("applies a new timeout announced by the server", () => {
    const onSilent = vi.fn();
    const detector = new SilenceDetector(75_000, onSilent);
    detector.heard();
    vi.advanceTimersByTime(500);
    detector.setTimeoutMs(625);
    vi.advanceTimersByTime(124);
    expect(onSilent).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onSilent).toHaveBeenCalledTimes(1);
  });
});
