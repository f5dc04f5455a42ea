import { describe, expect, it } from "vitest";
import type { AgentMessage, ControlMessage } from "../lib/events";
import { AgentControl, type Actuator } from "./control";
import { AgentPublisher } from "./publisher";

const RUN = "run-0a1b2c3d4e5f";
let n = 0;
function control(action: ControlMessage["action"], variation_id: string | null = null): ControlMessage {
  n += 1;
  return { control_id: `ctl-${String(n).padStart(16, "0")}`, run_id: RUN, action, variation_id, timestamp: new Date().toISOString() };
}

/** A publisher whose messages land in `sent`, and an actuator that logs what it was told. */
function setup() {
  const sent: AgentMessage[] = [];
  const publisher = new AgentPublisher({ sink: { send: async (m) => void sent.push(...m), batchSize: 10 }, runId: RUN, variationId: "var-1", writeLine: () => {} });
  const calls: string[] = [];
  const actuator: Actuator = {
    pause: async () => void calls.push("pause"),
    resume: async () => void calls.push("resume"),
    stop: async () => void calls.push("stop"),
  };
  const agent = new AgentControl(publisher, "var-1", () => {});
  const acks = () => sent.filter((m) => m.type === "status").map((m) => `${m.content as string}:${(m.metadata as { control_id?: string }).control_id}`);
  return { agent, actuator, calls, acks, flush: () => publisher.flush(1_000) };
}

describe("AgentControl", () => {
  it("applies each message once, in order, and acknowledges it after the action", async () => {
    const { agent, actuator, calls, acks, flush } = setup();
    agent.attach(actuator);
    const pause = control("pause");
    const resume = control("resume", "var-1");
    agent.handle(pause);
    agent.handle(pause); // a feed replaying after a reconnect
    agent.handle(control("stop", "var-2")); // someone else's
    agent.handle(resume);
    await agent.settled();
    await flush();
    expect(calls).toEqual(["pause", "resume"]);
    expect(acks()).toEqual([`paused:${pause.control_id}`, `resumed:${resume.control_id}`]);
  });

  it("keeps messages that arrive before the agent is ready and applies them once it is", async () => {
    const { agent, actuator, calls, flush, acks } = setup();
    const stop = control("stop");
    agent.handle(stop);
    expect(calls).toEqual([]);
    agent.attach(actuator);
    await agent.settled();
    await flush();
    expect(calls).toEqual(["stop"]);
    expect(agent.stopRequested).toBe(true);
    expect(acks()).toEqual([`stopped:${stop.control_id}`]);
  });

  it("a stop wakes an agent waiting while paused, and nothing is applied after a stop", async () => {
    const { agent, actuator, calls } = setup();
    agent.attach(actuator);
    agent.handle(control("pause"));
    await agent.settled();
    const waiting = agent.whilePaused();
    agent.handle(control("stop"));
    await waiting;
    agent.handle(control("resume"));
    await agent.settled();
    expect(calls).toEqual(["pause", "stop"]);
  });

  it("after close() (the final status is next) messages change nothing and get no answer", async () => {
    const { agent, actuator, calls, acks, flush } = setup();
    agent.attach(actuator);
    await agent.close();
    agent.handle(control("pause"));
    agent.handle(control("stop"));
    await agent.settled();
    await flush();
    expect(calls).toEqual([]);
    expect(acks()).toEqual([]);
    expect(agent.stopRequested).toBe(false);
  });
});
